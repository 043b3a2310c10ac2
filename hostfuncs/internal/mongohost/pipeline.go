package mongohost

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sluice-dev/sluice/engine"
)

// checkPipeline refuses aggregation stages that could read or write
// outside the connection's database: $out and $merge anywhere, $lookup
// and $graphLookup whose "from" is not a plain collection name, and
// $unionWith naming a db. It walks nested pipelines ($lookup, $unionWith,
// $facet).
func checkPipeline(op string, pipeline bson.A) error {
	for _, s := range pipeline {
		stage, ok := s.(bson.D)
		if !ok {
			return engine.Errorf(engine.CodeInvalidInput, "%s: every pipeline stage must be a document", op)
		}
		if err := checkStage(op, stage); err != nil {
			return err
		}
	}
	return nil
}

func checkStage(op string, stage bson.D) error {
	for _, e := range stage {
		switch e.Key {
		case "$out", "$merge":
			return refuse(op, "%s is not allowed: connectors may not write aggregation results to collections", e.Key)
		case "$lookup", "$graphLookup":
			spec, ok := e.Value.(bson.D)
			if !ok {
				continue // the server rejects it
			}
			for _, f := range spec {
				switch f.Key {
				case "from":
					if _, ok := f.Value.(string); !ok {
						return refuse(op, "%s.from must be a collection name of the connection's database", e.Key)
					}
				case "pipeline":
					if err := checkNested(op, e.Key, f.Value); err != nil {
						return err
					}
				}
			}
		case "$unionWith":
			spec, ok := e.Value.(bson.D)
			if !ok {
				continue // a collection name
			}
			for _, f := range spec {
				switch f.Key {
				case "db":
					return refuse(op, "$unionWith.db is not allowed: connectors read only the connection's database")
				case "coll":
					if _, ok := f.Value.(string); !ok {
						return refuse(op, "$unionWith.coll must be a collection name")
					}
				case "pipeline":
					if err := checkNested(op, e.Key, f.Value); err != nil {
						return err
					}
				}
			}
		case "$facet":
			spec, ok := e.Value.(bson.D)
			if !ok {
				continue
			}
			for _, f := range spec {
				if err := checkNested(op, e.Key, f.Value); err != nil {
					return err
				}
			}
		case "$currentOp", "$listSessions", "$listLocalSessions", "$changeStream":
			return refuse(op, "%s is not allowed in connectors", e.Key)
		}
	}
	return nil
}

func checkNested(op, stage string, v any) error {
	p, ok := v.(bson.A)
	if !ok {
		return refuse(op, "%s: a nested pipeline must be an array of stages", stage)
	}
	return checkPipeline(op, p)
}

func refuse(op, format string, args ...any) error {
	e := engine.Errorf(engine.CodeInvalidInput, format, args...)
	e.Message = op + ": " + e.Message
	return e
}
