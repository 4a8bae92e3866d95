package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// LoadUser reads days >= fromDate and the session keys (unexpired, newest
// first). It is one strongly consistent Query (a session
// key added a moment ago by POST /v1/session must be visible to the decrypt
// that follows); it only paginates past 1 MB, which a 31-day window, three
// keys and a summary never reach.
func (d *DynamoStore) LoadUser(ctx context.Context, openid, fromDate string) (User, error) {
	if openid == "" {
		return User{}, fmt.Errorf("store: LoadUser: empty openid: %w", ErrInvalidArgument)
	}
	in := &dynamodb.QueryInput{
		TableName:              &d.t.Name,
		KeyConditionExpression: aws.String("PK = :pk AND SK >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   userPK(openid),
			":from": ddb.S(dayPrefix + fromDate),
		},
		ConsistentRead: aws.Bool(true),
	}
	var u User
	now := time.Now()
	for {
		out, err := d.t.DB.Query(ctx, in)
		if err != nil {
			return User{}, ddb.Wrap("LoadUser", err)
		}
		for _, item := range out.Items {
			sk := ddb.Str(item["SK"])
			switch {
			case isMark(sk):
				if m := markOf(item); m.ExpiresAt.IsZero() || now.Before(m.ExpiresAt) {
					u.Events = append(u.Events, m)
				}
			case strings.HasPrefix(sk, dayPrefix):
				if day := dayOf(item); !expired(day, now) {
					u.Days = append(u.Days, day)
				}
			case strings.HasPrefix(sk, skeyPrefix):
				// TTL deletion is lazy (up to days late): skip expired keys.
				if exp := ddb.Num(item["expiresAt"]); exp != 0 && time.Unix(exp, 0).Before(now) {
					continue
				}
				nanos, err := strconv.ParseInt(strings.TrimPrefix(sk, skeyPrefix), 10, 64)
				if err != nil {
					continue
				}
				u.SessionKeys = append(u.SessionKeys, SessionKey{Key: ddb.Str(item["sessionKey"]), IssuedAt: time.Unix(0, nanos)})
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	// The Query returns ascending SKs; keys are wanted newest first.
	sort.Slice(u.SessionKeys, func(i, j int) bool { return u.SessionKeys[i].IssuedAt.After(u.SessionKeys[j].IssuedAt) })
	if len(u.SessionKeys) > MaxSessionKeys {
		// Two concurrent AddSessionKeys may briefly leave one extra.
		u.SessionKeys = u.SessionKeys[:MaxSessionKeys]
	}
	return u, nil
}

// AddSessionKey stores k (once, however often the same key is added) and
// keeps only the newest MaxSessionKeys. It is one Query of the user's keys,
// a PutItem unless the same key is already stored (WeChat may hand out the
// same session_key on re-login), then DeleteItems of the keys beyond the
// newest MaxSessionKeys. A zero IssuedAt means now.
func (d *DynamoStore) AddSessionKey(ctx context.Context, openid string, k SessionKey) error {
	if openid == "" || k.Key == "" {
		return fmt.Errorf("store: AddSessionKey: empty openid or key: %w", ErrInvalidArgument)
	}
	if k.IssuedAt.IsZero() {
		k.IssuedAt = time.Now()
	}
	existing, err := d.sessionKeySKs(ctx, openid, k.Key)
	if err != nil {
		return err
	}
	if existing.dup {
		return nil
	}
	newSK := skeySK(k.IssuedAt)
	_, err = d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &d.t.Name,
		Item: map[string]types.AttributeValue{
			"PK":         userPK(openid),
			"SK":         ddb.S(newSK),
			"sessionKey": ddb.S(k.Key),
			"expiresAt":  ddb.N(k.IssuedAt.Add(SessionKeyTTL).Unix()),
		},
	})
	if err != nil {
		return ddb.Wrap("AddSessionKey", err)
	}
	sks := append(existing.sks, newSK)
	if len(sks) <= MaxSessionKeys {
		return nil
	}
	sort.Sort(sort.Reverse(sort.StringSlice(sks)))
	for _, sk := range sks[MaxSessionKeys:] {
		_, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: &d.t.Name,
			Key:       map[string]types.AttributeValue{"PK": userPK(openid), "SK": ddb.S(sk)},
		})
		if err != nil {
			return ddb.Wrap("AddSessionKey", err)
		}
	}
	return nil
}

type storedKeys struct {
	sks []string
	dup bool // key is already stored
}

func (d *DynamoStore) sessionKeySKs(ctx context.Context, openid, key string) (storedKeys, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &d.t.Name,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ProjectionExpression:      aws.String("SK, sessionKey"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": userPK(openid), ":p": ddb.S(skeyPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
	var r storedKeys
	for {
		out, err := d.t.DB.Query(ctx, in)
		if err != nil {
			return storedKeys{}, ddb.Wrap("AddSessionKey", err)
		}
		for _, item := range out.Items {
			r.sks = append(r.sks, ddb.Str(item["SK"]))
			if ddb.Str(item["sessionKey"]) == key {
				r.dup = true
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return r, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// WriteDays writes each day only if it is new or raises the stored count,
// and returns the days actually written, date ascending. Each day is its own
// conditional UpdateItem
// (attribute_not_exists(steps) OR steps < :new), so counts only ever go up
// whatever the order of retries and concurrent syncs; a failed condition
// means a higher or equal count is stored and the day is simply not
// written. BatchWriteItem would save requests but cannot carry a
// condition: two concurrent first syncs could then overwrite a higher
// count with a lower one. The UpdateItems run in parallel (at most
// writeConcurrency at once) so a sync costs about one round trip.
//
// On error the days written before it are still returned.
func (d *DynamoStore) WriteDays(ctx context.Context, openid string, days []Day) ([]Day, error) {
	if openid == "" {
		return nil, fmt.Errorf("store: WriteDays: empty openid: %w", ErrInvalidArgument)
	}
	// The first failure cancels the writes not yet started: the sync fails
	// anyway, and its resend writes what is missing.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writeConcurrency)
	var (
		mu      sync.Mutex
		written []Day
		now     = time.Now()
	)
	for _, day := range days {
		if day.UpdatedAt.IsZero() {
			day.UpdatedAt = now
		}
		g.Go(func() error {
			ok, err := d.writeDay(gctx, openid, &day)
			if ok {
				mu.Lock()
				written = append(written, day)
				mu.Unlock()
			}
			return err
		})
	}
	err := g.Wait()
	sort.Slice(written, func(i, j int) bool { return written[i].Date < written[j].Date })
	return written, err
}

func (d *DynamoStore) writeDay(ctx context.Context, openid string, day *Day) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, ddb.Wrap("WriteDays", err)
	}
	update := "SET steps = :new, sourceTs = :ts, updatedAt = :at"
	values := map[string]types.AttributeValue{
		":new": ddb.N(day.Steps),
		":ts":  ddb.N(day.SourceTS),
		":at":  ddb.N(day.UpdatedAt.UnixMilli()),
	}
	if day.Source != "" {
		update += ", #source = :src"
		values[":src"] = ddb.S(day.Source)
	}
	if !day.ExpiresAt.IsZero() {
		update += ", expiresAt = :exp"
		values[":exp"] = ddb.N(day.ExpiresAt.Unix())
	}
	switch {
	case day.Board != "":
		update += ", boardShard = :board"
		values[":board"] = ddb.S(day.Board)
	case day.OffBoard:
		update += " REMOVE boardShard"
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 &d.t.Name,
		Key:                       map[string]types.AttributeValue{"PK": userPK(openid), "SK": ddb.S(dayPrefix + day.Date)},
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_not_exists(steps) OR steps < :new"),
		ExpressionAttributeValues: values,
		// What the write replaced costs nothing more and is exact under
		// racing syncs, unlike what the sync read before.
		ReturnValues: types.ReturnValueUpdatedOld,
	}
	if day.Source != "" {
		// "source" is a DynamoDB reserved word.
		in.ExpressionAttributeNames = map[string]string{"#source": "source"}
	}
	out, err := d.t.DB.UpdateItem(ctx, in)
	if ddb.IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, ddb.Wrap("WriteDays", err)
	}
	day.PrevSteps, day.PrevSourceTS = ddb.Num(out.Attributes["steps"]), ddb.Num(out.Attributes["sourceTs"])
	return true, nil
}

// Days reads the stored days from..to inclusive: one eventually consistent
// Query of the range (a read of history does not need the last millisecond).
func (d *DynamoStore) Days(ctx context.Context, openid, from, to string) ([]Day, error) {
	return d.days(ctx, openid, from, to, false)
}

// ConsistentDays is Days with a strongly consistent read, for a recount
// that must see every day written before it.
func (d *DynamoStore) ConsistentDays(ctx context.Context, openid, from, to string) ([]Day, error) {
	return d.days(ctx, openid, from, to, true)
}

func (d *DynamoStore) days(ctx context.Context, openid, from, to string, consistent bool) ([]Day, error) {
	if openid == "" {
		return nil, fmt.Errorf("store: Days: empty openid: %w", ErrInvalidArgument)
	}
	in := &dynamodb.QueryInput{
		TableName:              &d.t.Name,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   userPK(openid),
			":from": ddb.S(dayPrefix + from),
			":to":   ddb.S(dayPrefix + to),
		},
		ProjectionExpression:     aws.String(dayProjection),
		ExpressionAttributeNames: map[string]string{"#source": "source"},
		ConsistentRead:           aws.Bool(consistent),
	}
	days := []Day{}
	now := time.Now()
	for {
		out, err := d.t.DB.Query(ctx, in)
		if err != nil {
			return nil, ddb.Wrap("Days", err)
		}
		for _, item := range out.Items {
			if day := dayOf(item); !isMark(ddb.Str(item["SK"])) && !expired(day, now) {
				days = append(days, day)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return days, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
