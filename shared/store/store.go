// Package store owns the DynamoDB single-table layout of werun-sam: the item
// keys (keys.go) and their codecs (codec.go), the Query, page, batch and
// parallel helpers (query.go), and one method per read or write the use
// cases make. Each use case declares the few methods it uses as its own
// interface; *DynamoStore satisfies them all.
//
// It knows nothing of HTTP, WeChat or the steps domain: it has its own small
// types. Errors never contain item values (session keys, tokens); throttling
// and timeouts that outlast the SDK's retries match ErrUnavailable.
//
// The item layout is docs/DESIGN.md's data-model table; keys.go builds
// every key in it, and a test holds the two together.
package store

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

const (
	// SessionKeyTTL is how long a stored session key stays usable (and when
	// DynamoDB TTL may delete it). Data fetched before a wx.login rotation
	// reaches us within minutes, so a week is generous.
	SessionKeyTTL = 7 * 24 * time.Hour
	// MaxSessionKeys is how many session keys are kept per user, newest
	// first: enough to decrypt data fetched just before a re-login.
	MaxSessionKeys = 3
	// writeConcurrency bounds the parallel UpdateItems of one WriteDays, so
	// a first sync of a 31-day window costs about one round trip.
	writeConcurrency = 8
)

// Day is one stored day of steps. Date is "YYYY-MM-DD" (China Standard Time,
// decided by the caller).
type Day struct {
	Date      string
	Steps     int64
	SourceTS  int64     // the WeRun timestamp the count came with
	Source    string    // how it arrived: werun.SourceEncrypted ("encryptedData") or werun.SourceCloudID ("cloudID")
	UpdatedAt time.Time // when it was written; zero means now
	// Board, when set, puts the day in the sparse ActiveIndex under this
	// partition key (the caller's leaderboard shard); only a few days carry it.
	Board string
	// OffBoard takes the day out of the ActiveIndex (it is kept off boards).
	OffBoard bool
	// ExpiresAt is when the table's TTL deletes the day (the retention);
	// zero writes none. Reads skip a day past it that TTL has not removed yet.
	ExpiresAt time.Time
	// PrevSteps and PrevSourceTS are what a write replaced (0 for a new
	// day), as the write itself found them: set on the days WriteDays
	// returns, so a credit counts each change once however syncs race.
	PrevSteps, PrevSourceTS int64
}

// SessionKey is one WeChat session_key and when it was issued.
type SessionKey struct {
	Key      string
	IssuedAt time.Time
}

// User is what one sync needs, read by one Query.
type User struct {
	Days        []Day        // date ascending, all >= the fromDate asked for
	SessionKeys []SessionKey // unexpired, newest first, at most MaxSessionKeys
	// Events are the marks of the events the user takes part in that the
	// window still reads (challenge.go).
	Events []EventMark
}

// AccessToken is the shared WeChat access-token record and its refresh lease.
type AccessToken struct {
	Token       string
	ExpiresAt   time.Time
	LeaseHolder string
	LeaseUntil  time.Time
	// ForcedAt is when a holder last asked WeChat to force a new token,
	// which WeChat allows only every 30 s and a few times a day.
	ForcedAt time.Time
}

var (
	// ErrLeaseLost: PutAccessToken by someone no longer holding the lease.
	ErrLeaseLost = errors.New("store: access-token lease not held")
)

// DynamoStore is the Store over one DynamoDB table.
type DynamoStore struct {
	t ddb.Table
}

// Table is the table this store is on, for the other store packages
// (eventstore) to share.
func (d *DynamoStore) Table() ddb.Table { return d.t }

// New returns a DynamoStore on table. Build client from config.AWS so the
// bounded retryer applies to throttling.
func New(client *dynamodb.Client, table string) *DynamoStore {
	return &DynamoStore{t: ddb.Table{DB: client, Name: table}}
}
