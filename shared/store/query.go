package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// queryAll reads every item of pk with a projection (never a secret).
func (d *DynamoStore) queryAll(ctx context.Context, op, pk, projection string, names map[string]string) ([]map[string]types.AttributeValue, error) {
	return d.pages(ctx, op, &dynamodb.QueryInput{
		TableName:                 &d.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)},
		ProjectionExpression:      aws.String(projection),
		ExpressionAttributeNames:  names,
		ConsistentRead:            aws.Bool(true),
	})
}

// conditionalUpdate runs an UpdateItem whose ConditionExpression may fail:
// a failed condition is an expected outcome (false), not an error.
func (d *DynamoStore) conditionalUpdate(ctx context.Context, op string, in *dynamodb.UpdateItemInput) (bool, error) {
	_, err := d.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap(op, err)
	}
	return true, nil
}

// batchGetMax is BatchGetItem's limit of keys per call.
const batchGetMax = 100

func (d *DynamoStore) get(ctx context.Context, op string, k map[string]types.AttributeValue, consistent bool) (map[string]types.AttributeValue, error) {
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: k, ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return nil, wrap(op, err)
	}
	return out.Item, nil
}

// putNew puts item unless an item with its key exists; false when one does.
func (d *DynamoStore) putNew(ctx context.Context, op string, item map[string]types.AttributeValue) (bool, error) {
	_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &d.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, wrap(op, err)
}

// query reads every item of pk whose SK begins with prefix.
func (d *DynamoStore) query(ctx context.Context, op, pk, prefix string, consistent bool) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &d.table,
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk), ":p": s(prefix)},
		ConsistentRead:            aws.Bool(consistent),
	}
	return d.pages(ctx, op, in)
}

// pages runs a Query to its last page and returns every item.
func (d *DynamoStore) pages(ctx context.Context, op string, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for {
		out, err := d.db.Query(ctx, in)
		if err != nil {
			return nil, wrap(op, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (d *DynamoStore) deleteBoth(ctx context.Context, op string, a, b map[string]types.AttributeValue) error {
	del := func(k map[string]types.AttributeValue) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: k})
			return err
		}
	}
	return d.parallel(ctx, op, del(a), del(b))
}

// parallel runs the calls at once and returns the first error, wrapped.
func (d *DynamoStore) parallel(ctx context.Context, op string, calls ...func(context.Context) error) error {
	var g errgroup.Group
	for _, call := range calls {
		g.Go(func() error { return call(ctx) })
	}
	if err := g.Wait(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// batchGet reads up to 100 keys, asking again for unprocessed ones.
func (d *DynamoStore) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	// Projected, as every read of a function that may not read secrets is.
	return d.batchGetProjected(ctx, keys, "PK, SK, steps, sourceTs, openid, nickname, avatarUrl")
}

// batchGetProjected is batchGet with its own projection ("" for every
// attribute, only for items that hold no secret).
func (d *DynamoStore) batchGetProjected(ctx context.Context, keys []map[string]types.AttributeValue, projection string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	ka := types.KeysAndAttributes{Keys: keys}
	if projection != "" {
		ka.ProjectionExpression = aws.String(projection)
	}
	req := map[string]types.KeysAndAttributes{d.table: ka}
	for len(req) > 0 {
		out, err := d.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Responses[d.table]...)
		req = out.UnprocessedKeys
		if len(req) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return items, nil
}
