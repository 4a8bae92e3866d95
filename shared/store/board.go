package store

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
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
		TableName:                 &d.t.Name,
		IndexName:                 aws.String(ActiveIndex),
		KeyConditionExpression:    aws.String("boardShard = :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": ddb.S(board)},
	}
	if cursor != "" {
		start, err := ddb.DecodeCursor("BoardPage", cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := d.t.DB.Query(ctx, in)
	if err != nil {
		return nil, "", ddb.Wrap("BoardPage", err)
	}
	entries := make([]BoardEntry, 0, len(out.Items))
	for _, item := range out.Items {
		entries = append(entries, BoardEntry{OpenID: strings.TrimPrefix(ddb.Str(item["PK"]), "USER#"), Steps: ddb.Num(item["steps"])})
	}
	return entries, ddb.EncodeCursor(out.LastEvaluatedKey), nil
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
			_, err := d.t.ConditionalUpdate(ctx, "ClearBoard", &dynamodb.UpdateItemInput{
				TableName:                 &d.t.Name,
				Key:                       dayKey(e.OpenID, date),
				UpdateExpression:          aws.String("REMOVE boardShard"),
				ConditionExpression:       aws.String("boardShard = :b"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":b": ddb.S(board)},
			})
			return err
		}
	}
	if err := ddb.Parallel(ctx, "ClearBoard", calls...); err != nil {
		return 0, "", err
	}
	return len(entries), next, nil
}

// GetSnapshot reads a caller's JSON document of appid; found is false when
// there is none.
func (d *DynamoStore) GetSnapshot(ctx context.Context, appid, name string) ([]byte, bool, error) {
	out, err := d.t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.t.Name, Key: snapshotKey(appid, name),
		ProjectionExpression: aws.String("#data"), ExpressionAttributeNames: map[string]string{"#data": "data"},
	})
	if err != nil {
		return nil, false, ddb.Wrap("GetSnapshot", err)
	}
	if out.Item == nil {
		return nil, false, nil
	}
	return []byte(ddb.Str(out.Item["data"])), true, nil
}

// PutSnapshot stores a caller's JSON document of appid; expiresAt feeds the
// table's TTL.
func (d *DynamoStore) PutSnapshot(ctx context.Context, appid, name string, data []byte, expiresAt time.Time) error {
	item := snapshotKey(appid, name)
	item["data"] = ddb.S(string(data))
	item["expiresAt"] = ddb.N(expiresAt.Unix())
	_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
	return ddb.Wrap("PutSnapshot", err)
}
