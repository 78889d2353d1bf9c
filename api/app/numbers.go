package app

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/lib/pq"
)

// numbers allocates each tenant's readable ticket numbers from a sequence
// of its own. A sequence hands out numbers without locks, so concurrent
// creates in one tenant never queue behind each other (a counter stream or
// row would serialise them on every commit). The cost is the usual one of
// sequences: a create that fails after taking a number leaves a gap.
type numbers struct {
	db      *sql.DB
	nextval *sql.Stmt // nextval, prepared: one round trip per number
	known   sync.Map  // sequence name -> struct{}: created
}

const nextvalSQL = `SELECT nextval($1::regclass)`

func newNumbers(db *sql.DB) *numbers {
	n := &numbers{db: db}
	n.nextval, _ = db.Prepare(nextvalSQL) // nil: run unprepared
	return n
}

func sequenceName(tenant string) string {
	h := sha256.Sum256([]byte(tenant))
	return "ticket_number_" + hex.EncodeToString(h[:16])
}

// next returns the tenant's next ticket number, creating its sequence on
// first use.
func (n *numbers) next(ctx context.Context, tenant string) (int64, error) {
	name := sequenceName(tenant)
	if _, ok := n.known.Load(name); !ok {
		if _, err := n.db.ExecContext(ctx, `CREATE SEQUENCE IF NOT EXISTS `+pq.QuoteIdentifier(name)); err != nil {
			var pqErr *pq.Error
			// Two creators raced past IF NOT EXISTS; the sequence exists.
			if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
				return 0, fmt.Errorf("ticket number sequence: %w", err)
			}
		}
		n.known.Store(name, struct{}{})
	}
	var row *sql.Row
	if n.nextval != nil {
		row = n.nextval.QueryRowContext(ctx, pq.QuoteIdentifier(name))
	} else {
		row = n.db.QueryRowContext(ctx, nextvalSQL, pq.QuoteIdentifier(name))
	}
	var v int64
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("next ticket number: %w", err)
	}
	return v, nil
}
