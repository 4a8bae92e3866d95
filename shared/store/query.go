package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

func (d *DynamoStore) deleteBoth(ctx context.Context, op string, a, b map[string]types.AttributeValue) error {
	del := func(k map[string]types.AttributeValue) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.t.Name, Key: k})
			return err
		}
	}
	return ddb.Parallel(ctx, op, del(a), del(b))
}

// batchGet reads up to 100 keys, asking again for unprocessed ones.
func (d *DynamoStore) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	// Projected, as every read of a function that may not read secrets is.
	return d.t.BatchGet(ctx, "BatchGet", keys, "PK, SK, steps, sourceTs, openid, nickname, avatarUrl")
}
