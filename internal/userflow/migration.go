package userflow

import (
	"context"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// MigrationStatus is the progress of a lazy migration.
type MigrationStatus struct {
	// MigratedUsers counts the users in the local store, however they got
	// there: by logging in, by registering, or imported by FinishMigration.
	MigratedUsers  int       `json:"migratedUsers"`
	LastMigratedAt time.Time `json:"lastMigratedAt,omitzero"`
	// LegacyTotal is the connector's listUsers totalCount, when the
	// connector implements listUsers; MigratedShare is MigratedUsers over it.
	LegacyTotal   *int     `json:"legacyTotal,omitempty"`
	MigratedShare *float64 `json:"migratedShare,omitempty"`
	// Finish is the state of the last finish-migration job, if any.
	Finish *store.MigrationJob `json:"finish,omitempty"`
}

// Migration reports how far a lazy migration has come.
func (s *Service) Migration(ctx context.Context, c Conn) (*MigrationStatus, error) {
	if c.Mode != engine.ModeLazyMigration {
		return nil, invalid("connection %s is not in LAZY_MIGRATION mode", c.Name)
	}
	// The job first, then the count: a job read as done has written
	// every user it counts, so the count read after it is never lower.
	var job *store.MigrationJob
	if j, err := s.cfg.Store.GetMigrationJob(ctx, c.Tenant, c.Name); err == nil {
		job = &j
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	stats, err := s.cfg.Store.UserStats(ctx, c.Tenant, c.Name)
	if err != nil {
		return nil, err
	}
	st := &MigrationStatus{MigratedUsers: stats.Count, LastMigratedAt: stats.LastMigratedAt}
	if !c.Disabled && c.Connector != nil && c.Connector.Implements("listUsers") {
		if l, err := s.legacyPage(ctx, c, 1, 1); err == nil {
			st.LegacyTotal = &l.TotalCount
			if l.TotalCount > 0 {
				share := float64(stats.Count) / float64(l.TotalCount)
				if share > 1 {
					share = 1
				}
				st.MigratedShare = &share
			}
		}
	}
	st.Finish = job
	return st, nil
}

func (s *Service) legacyPage(ctx context.Context, c Conn, page, limit int) (UserList, error) {
	out, err := call(ctx, c, "listUsers", map[string]any{"page": page, "limit": limit})
	if err != nil {
		return UserList{}, err
	}
	return parseList("listUsers", out)
}

// ErrMigrationRunning means a finish-migration job of the connection is
// already running (here or on another node).
var ErrMigrationRunning = &engine.Error{Code: "migration_running", Message: "a finish-migration job is already running for this connection"}

// StartFinish claims the connection's finish-migration job: a new one, or
// the one that stopped (canceled, failed, or left running by a node that
// died). Run it with RunFinish.
func (s *Service) StartFinish(ctx context.Context, c Conn) (store.MigrationJob, error) {
	if c.Mode != engine.ModeLazyMigration {
		return store.MigrationJob{}, invalid("connection %s is not in LAZY_MIGRATION mode", c.Name)
	}
	if c.Disabled {
		return store.MigrationJob{}, ErrDisabled
	}
	if !c.Connector.Implements("listUsers") {
		return store.MigrationJob{}, engine.NotImplemented("listUsers")
	}
	job, err := s.cfg.Store.GetMigrationJob(ctx, c.Tenant, c.Name)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && job.Status == store.JobDone):
		job = store.MigrationJob{Tenant: c.Tenant, Connection: c.Name, NextPage: 1, StartedAt: time.Now()}
	case err != nil:
		return job, err
	case job.Status == store.JobRunning && time.Since(job.UpdatedAt) < s.cfg.StaleAfter:
		return job, ErrMigrationRunning
	}
	if job.NextPage < 1 {
		job.NextPage = 1
	}
	job.Status, job.Error = store.JobRunning, ""
	return s.cfg.Store.PutMigrationJob(ctx, job)
}

// RunFinish walks the connector's listUsers from the job's next page and
// imports every profile not yet in the local store and not deleted from
// it (a tombstone matches), without a password:
// such users set theirs on their next login, which still goes to the
// connector. Progress is saved after every page, so a job stopped by ctx
// or a crash resumes where it stopped.
func (s *Service) RunFinish(ctx context.Context, c Conn, job store.MigrationJob) (store.MigrationJob, error) {
	start := time.Now()
	save := func(status string, err error) (store.MigrationJob, error) {
		if err != nil && ctx.Err() != nil {
			// Stopped mid-page: the page is redone on resume, and
			// already imported profiles are skipped.
			status, err = store.JobCanceled, nil
		}
		job.Status = status
		if err != nil {
			// What GET migration shows: the code and a plain message;
			// the audit entry has the detail.
			job.Error = PublicText(err)
		}
		saved, serr := s.cfg.Store.PutMigrationJob(context.WithoutCancel(ctx), job)
		s.audit(ctx, c, "finishMigration", "", start, err)
		if serr != nil {
			return job, serr
		}
		return saved, err
	}
	pageSize := s.cfg.ImportPageSize
	for {
		if err := ctx.Err(); err != nil {
			return save(store.JobCanceled, nil)
		}
		l, err := s.legacyPage(ctx, c, job.NextPage, pageSize)
		if err != nil {
			return save(store.JobFailed, err)
		}
		job.LegacyTotal = int64(l.TotalCount)
		for _, p := range l.List {
			if _, err := s.cfg.Store.GetUserByExternalID(ctx, c.Tenant, c.Name, p.ID); err == nil {
				continue
			}
			// A deleted user is not imported again.
			switch err := s.checkTombstone(ctx, c, store.Tombstone{ExternalID: p.ID, Email: p.Email, Username: p.Username, Phone: p.Phone}); {
			case errors.Is(err, ErrBadCredentials):
				continue
			case err != nil:
				return save(store.JobFailed, err)
			}
			u, err := toStoreUser(c, p)
			if err != nil {
				return save(store.JobFailed, err)
			}
			u.ExternalID, u.Source, u.PasswordSet = p.ID, store.SourceImport, false
			switch _, err := s.cfg.Store.CreateUser(ctx, u); {
			case err == nil:
				job.Imported++
			case errors.Is(err, store.ErrConflict):
				// Registered locally with the same email meanwhile: the
				// local account wins.
			default:
				return save(store.JobFailed, err)
			}
		}
		job.NextPage++
		if len(l.List) == 0 || (job.NextPage-1)*pageSize >= l.TotalCount {
			return save(store.JobDone, nil)
		}
		if _, err := s.cfg.Store.PutMigrationJob(context.WithoutCancel(ctx), job); err != nil {
			return job, err
		}
	}
}
