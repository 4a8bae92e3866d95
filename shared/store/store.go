// Package store owns the DynamoDB single-table layout of werun-sam: the item
// keys, the one-Query read of a user's sync window, monotonic conditional
// day writes, the user's last few WeChat session keys, and the shared
// WeChat access-token record with its refresh lease.
//
// It knows nothing of HTTP, WeChat or the steps domain: it has its own small
// types. Errors never contain item values (session keys, tokens); throttling
// and timeouts that outlast the SDK's retries match ErrUnavailable.
//
// Item layout (one table, PK/SK strings):
//
//	USER#<openid> / DAY#YYYY-MM-DD   steps N, sourceTs N, source S, updatedAt N (unix ms),
//	                                 expiresAt N (unix s, the table's TTL: the retention)
//	USER#<openid> / SKEY#<20-digit unix nanos>   sessionKey S, expiresAt N (unix s, the table's TTL)
//	                                 boardShard S on today's day only: the sparse ActiveIndex key
//	APP#<appid>   / ACCESS_TOKEN     accessToken S, tokenExpiresAt N, leaseHolder S, leaseUntil N (unix ms)
//	APP#<appid>   / SNAPSHOT#<name>  data S (JSON owned by the caller), expiresAt N
//	CODE#<sha256(code) hex> / CODE   openid S, sessionKey S, expiresAt N (the code's life)
//	(and the social items, listed in social.go, the account items, in account.go,
//	and the step-challenge items, in challenge.go)
//
// Sort keys order DAY# < SKEY#, so one Query with SK >= DAY#<first day>
// reads the window and the keys.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// Store is the storage the use cases depend on.
type Store interface {
	// LoadUser reads days >= fromDate and the session keys with one strongly
	// consistent Query.
	LoadUser(ctx context.Context, openid, fromDate string) (User, error)
	// AddSessionKey stores k (once, however often the same key is added) and
	// keeps only the newest MaxSessionKeys.
	AddSessionKey(ctx context.Context, openid string, k SessionKey) error
	// WriteDays writes each day only if it is new or raises the stored count,
	// and returns the days actually written, date ascending.
	WriteDays(ctx context.Context, openid string, days []Day) (written []Day, err error)
	// GetAccessToken reads the access-token record; found is false when no
	// record exists (a record may hold only a lease and no token yet).
	GetAccessToken(ctx context.Context, appid string) (tok AccessToken, found bool, err error)
	// AcquireTokenLease takes the refresh lease until `until` if nobody holds
	// one at `now`; false means another holder has it.
	AcquireTokenLease(ctx context.Context, appid, holder string, now, until time.Time) (bool, error)
	// PutAccessToken stores a fresh token and releases the lease, only if
	// holder still holds it (else ErrLeaseLost); a non-zero forcedAt records
	// that the token came from a forced refresh.
	PutAccessToken(ctx context.Context, appid, holder, token string, expiresAt, forcedAt time.Time) error
	// PutRedeemedCode and GetRedeemedCode keep what a login code gave for
	// the code's short life, keyed by a hash of the code.
	PutRedeemedCode(ctx context.Context, hash string, r RedeemedCode) error
	GetRedeemedCode(ctx context.Context, hash string, now time.Time) (RedeemedCode, bool, error)
	// ReleaseTokenLease gives up holder's lease without a new token.
	ReleaseTokenLease(ctx context.Context, appid, holder string) error
	// Days reads the stored days from..to inclusive with one Query.
	Days(ctx context.Context, openid, from, to string) ([]Day, error)
	// BoardPage reads one page of the ActiveIndex partition board, starting
	// at cursor ("" for the first page); next is "" after the last page.
	BoardPage(ctx context.Context, board, cursor string) (entries []BoardEntry, next string, err error)
	// GetSnapshot and PutSnapshot keep a caller's JSON document per app.
	GetSnapshot(ctx context.Context, appid, name string) (data []byte, found bool, err error)
	PutSnapshot(ctx context.Context, appid, name string, data []byte, expiresAt time.Time) error
	// ClearBoard takes one page of the ActiveIndex partition board out of
	// the index (the days stay), starting at cursor; next is "" after the
	// last page.
	ClearBoard(ctx context.Context, board, cursor string) (cleared int, next string, err error)
	// ForgetDays deletes the given days of a user.
	ForgetDays(ctx context.Context, openid string, days []Day) error
	// Social holds profiles, groups, friends and invites (social.go).
	Social
	// Accounts holds account generations, revocations, exports and
	// deletions (account.go).
	Accounts
	// Challenges holds step challenges (challenge.go).
	Challenges
}

var (
	// ErrUnavailable: DynamoDB throttled, failed or timed out beyond the
	// retries; the request may be retried later (HTTP 503).
	ErrUnavailable = errors.New("store: unavailable, retry later")
	// ErrLeaseLost: PutAccessToken by someone no longer holding the lease.
	ErrLeaseLost = errors.New("store: access-token lease not held")
	// ErrInvalidArgument: an empty openid, appid or holder.
	ErrInvalidArgument = errors.New("store: invalid argument")
)

// DynamoStore is the Store over one DynamoDB table.
type DynamoStore struct {
	db    *dynamodb.Client
	table string
}

var _ Store = (*DynamoStore)(nil)

// New returns a DynamoStore on table. Build client from config.AWS so the
// bounded retryer applies to throttling.
func New(client *dynamodb.Client, table string) *DynamoStore {
	return &DynamoStore{db: client, table: table}
}
