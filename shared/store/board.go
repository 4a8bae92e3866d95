package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ActiveIndex is the sparse global secondary index of the days that carry a
// board key: partition boardShard, sort PK, projecting steps.
const ActiveIndex = "ActiveIndex"

// BoardEntry is one user's count on a board.
type BoardEntry struct {
	OpenID string
	Steps  int64
}

func dayOf(item map[string]types.AttributeValue) Day {
	return Day{
		Date:      strings.TrimPrefix(str(item["SK"]), dayPrefix),
		Steps:     num(item["steps"]),
		SourceTS:  num(item["sourceTs"]),
		Source:    str(item["source"]),
		UpdatedAt: millis(item["updatedAt"]),
		Board:     str(item["boardShard"]),
		ExpiresAt: unixOrZero(item["expiresAt"]),
	}
}

func unixOrZero(av types.AttributeValue) time.Time {
	if v := num(av); v != 0 {
		return time.Unix(v, 0)
	}
	return time.Time{}
}

// expired: TTL deletion is lazy (up to days late), so reads skip a day past
// its expiry themselves.
func expired(d Day, now time.Time) bool {
	return !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt)
}

// dayProjection names what a read of days needs, and no secret: a session
// key shares the days' partition.
const dayProjection = "SK, steps, sourceTs, #source, updatedAt, boardShard, expiresAt"

// Days implements Store: one eventually consistent Query of the range (a read
// of history does not need the last millisecond).
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
		TableName:              &d.table,
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   userPK(openid),
			":from": s(dayPrefix + from),
			":to":   s(dayPrefix + to),
		},
		ProjectionExpression:     aws.String(dayProjection),
		ExpressionAttributeNames: map[string]string{"#source": "source"},
		ConsistentRead:           aws.Bool(consistent),
	}
	days := []Day{}
	now := time.Now()
	for {
		out, err := d.db.Query(ctx, in)
		if err != nil {
			return nil, wrap("Days", err)
		}
		for _, item := range out.Items {
			if day := dayOf(item); !isMark(str(item["SK"])) && !expired(day, now) {
				days = append(days, day)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return days, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// BoardPage implements Store. The cursor is the page's LastEvaluatedKey,
// whose attributes are all strings here, as base64 JSON: opaque to callers,
// small enough to persist between scheduled runs.
func (d *DynamoStore) BoardPage(ctx context.Context, board, cursor string) ([]BoardEntry, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &d.table,
		IndexName:                 aws.String(ActiveIndex),
		KeyConditionExpression:    aws.String("boardShard = :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": s(board)},
	}
	if cursor != "" {
		start, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := d.db.Query(ctx, in)
	if err != nil {
		return nil, "", wrap("BoardPage", err)
	}
	entries := make([]BoardEntry, 0, len(out.Items))
	for _, item := range out.Items {
		entries = append(entries, BoardEntry{OpenID: strings.TrimPrefix(str(item["PK"]), "USER#"), Steps: num(item["steps"])})
	}
	return entries, encodeCursor(out.LastEvaluatedKey), nil
}

// ClearBoard implements Store: one page of the index, then an UpdateItem
// per entry removing its boardShard (only while it still is that board's),
// run at once.
func (d *DynamoStore) ClearBoard(ctx context.Context, board, cursor string) (int, string, error) {
	entries, next, err := d.BoardPage(ctx, board, cursor)
	if err != nil {
		return 0, "", err
	}
	date, _, _ := strings.Cut(board, "#")
	calls := make([]func(context.Context) error, len(entries))
	for i, e := range entries {
		calls[i] = func(ctx context.Context) error {
			_, err := d.conditionalUpdate(ctx, "ClearBoard", &dynamodb.UpdateItemInput{
				TableName:                 &d.table,
				Key:                       userPKKey(e.OpenID, dayPrefix+date),
				UpdateExpression:          aws.String("REMOVE boardShard"),
				ConditionExpression:       aws.String("boardShard = :b"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":b": s(board)},
			})
			return err
		}
	}
	if err := d.parallel(ctx, "ClearBoard", calls...); err != nil {
		return 0, "", err
	}
	return len(entries), next, nil
}

func encodeCursor(key map[string]types.AttributeValue) string {
	if len(key) == 0 {
		return ""
	}
	m := make(map[string]string, len(key))
	for k, v := range key {
		m[k] = str(v)
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var m map[string]string
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("store: BoardPage: malformed cursor: %w", ErrInvalidArgument)
	}
	key := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		key[k] = s(v)
	}
	return key, nil
}

func snapshotKey(appid, name string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s("APP#" + appid), "SK": s("SNAPSHOT#" + name)}
}

// GetSnapshot implements Store.
func (d *DynamoStore) GetSnapshot(ctx context.Context, appid, name string) ([]byte, bool, error) {
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.table, Key: snapshotKey(appid, name),
		ProjectionExpression: aws.String("#data"), ExpressionAttributeNames: map[string]string{"#data": "data"},
	})
	if err != nil {
		return nil, false, wrap("GetSnapshot", err)
	}
	if out.Item == nil {
		return nil, false, nil
	}
	return []byte(str(out.Item["data"])), true, nil
}

// PutSnapshot implements Store; expiresAt feeds the table's TTL.
func (d *DynamoStore) PutSnapshot(ctx context.Context, appid, name string, data []byte, expiresAt time.Time) error {
	item := snapshotKey(appid, name)
	item["data"] = s(string(data))
	item["expiresAt"] = n(expiresAt.Unix())
	_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item})
	return wrap("PutSnapshot", err)
}
