package store

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ActiveIndex is the sparse global secondary index of the days that carry a
// board key: partition boardShard, sort PK, projecting steps.
const ActiveIndex = "ActiveIndex"

// OpenIDIndex is the sparse global secondary index (keys only) of every item
// that holds an openid attribute: a deletion finds through it what names the
// user outside the user's own partition, whichever write put it there.
const OpenIDIndex = "OpenIDIndex"

// BoardEntry is one user's count on a board.
type BoardEntry struct {
	OpenID string
	Steps  int64
}

// BoardPage reads one page of the ActiveIndex partition board, starting at
// cursor ("" for the first page); next is "" after the last page. The
// cursor is the page's LastEvaluatedKey,
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

// ClearBoard takes one page of the ActiveIndex partition board out of the
// index (the days stay), starting at cursor; next is "" after the last page.
// It is one page of the index, then an UpdateItem
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
				Key:                       dayKey(e.OpenID, date),
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

// GetSnapshot reads a caller's JSON document of appid; found is false when
// there is none.
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

// PutSnapshot stores a caller's JSON document of appid; expiresAt feeds the
// table's TTL.
func (d *DynamoStore) PutSnapshot(ctx context.Context, appid, name string, data []byte, expiresAt time.Time) error {
	item := snapshotKey(appid, name)
	item["data"] = s(string(data))
	item["expiresAt"] = n(expiresAt.Unix())
	_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item})
	return wrap("PutSnapshot", err)
}
