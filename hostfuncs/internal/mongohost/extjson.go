package mongohost

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sluice-dev/sluice/engine"
)

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// parseValue decodes one Extended JSON value (canonical or relaxed) of
// field; documents become bson.D and arrays bson.A, keeping key order.
func parseValue(op, field string, raw json.RawMessage) (any, error) {
	wrapped := make([]byte, 0, len(raw)+6)
	wrapped = append(wrapped, `{"v":`...)
	wrapped = append(wrapped, raw...)
	wrapped = append(wrapped, '}')
	var d bson.D
	if err := bson.UnmarshalExtJSON(wrapped, false, &d); err != nil {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s is not valid Extended JSON: %v", op, field, err)
	}
	if len(d) != 1 {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s is not valid Extended JSON", op, field)
	}
	return d[0].Value, nil
}

// parseDoc decodes field as an Extended JSON document; absent or null is
// the empty document when optional.
func parseDoc(op, field string, raw json.RawMessage, optional bool) (bson.D, error) {
	if isNull(raw) {
		if optional {
			return bson.D{}, nil
		}
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s is required", op, field)
	}
	v, err := parseValue(op, field, raw)
	if err != nil {
		return nil, err
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s must be a document (a JSON object), not %s", op, field, typeName(v))
	}
	return d, nil
}

// parseArray decodes field as an Extended JSON array of documents.
func parseArray(op, field string, raw json.RawMessage) (bson.A, error) {
	if isNull(raw) {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s is required", op, field)
	}
	v, err := parseValue(op, field, raw)
	if err != nil {
		return nil, err
	}
	a, ok := v.(bson.A)
	if !ok {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s must be an array, not %s", op, field, typeName(v))
	}
	for i, e := range a {
		if _, ok := e.(bson.D); !ok {
			return nil, engine.Errorf(engine.CodeInvalidInput, "%s: %s[%d] must be a document, not %s", op, field, i, typeName(e))
		}
	}
	return a, nil
}

func typeName(v any) string {
	switch v.(type) {
	case bson.D:
		return "a document"
	case bson.A:
		return "an array"
	case string:
		return "a string"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

// encodeDoc renders one BSON document as Extended JSON.
func encodeDoc(doc bson.Raw, relaxed bool) ([]byte, error) {
	return bson.MarshalExtJSON(doc, !relaxed, false)
}

// encodeValue renders one BSON value (an _id) as Extended JSON.
func encodeValue(v any, relaxed bool) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, !relaxed, false)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m["v"], nil
}
