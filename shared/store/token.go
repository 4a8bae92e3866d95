package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// GetAccessToken reads the access-token record (found is false when there
// is none; a record may hold only a lease) with a strongly consistent GetItem, so a
// token just put by the lease holder is seen by everyone after it.
func (d *DynamoStore) GetAccessToken(ctx context.Context, appid string) (AccessToken, bool, error) {
	if appid == "" {
		return AccessToken{}, false, fmt.Errorf("store: GetAccessToken: empty appid: %w", ErrInvalidArgument)
	}
	out, err := d.t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &d.t.Name,
		Key:            tokenKey(appid),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return AccessToken{}, false, ddb.Wrap("GetAccessToken", err)
	}
	if len(out.Item) == 0 {
		return AccessToken{}, false, nil
	}
	return AccessToken{
		Token:       ddb.Str(out.Item["accessToken"]),
		ExpiresAt:   ddb.Millis(out.Item["tokenExpiresAt"]),
		LeaseHolder: ddb.Str(out.Item["leaseHolder"]),
		LeaseUntil:  ddb.Millis(out.Item["leaseUntil"]),
		ForcedAt:    ddb.Millis(out.Item["forcedAt"]),
	}, true, nil
}

// AcquireTokenLease takes the refresh lease until `until` if nobody holds
// one at now (false: another holder has it): one conditional UpdateItem that
// succeeds for exactly one of many concurrent callers while no unexpired
// lease exists. The token itself is left untouched, so others keep using it
// while the holder refreshes.
func (d *DynamoStore) AcquireTokenLease(ctx context.Context, appid, holder string, now, until time.Time) (bool, error) {
	if appid == "" || holder == "" {
		return false, fmt.Errorf("store: AcquireTokenLease: empty appid or holder: %w", ErrInvalidArgument)
	}
	return d.t.ConditionalUpdate(ctx, "AcquireTokenLease", &dynamodb.UpdateItemInput{
		TableName:           &d.t.Name,
		Key:                 tokenKey(appid),
		UpdateExpression:    aws.String("SET leaseHolder = :h, leaseUntil = :until"),
		ConditionExpression: aws.String("attribute_not_exists(leaseUntil) OR leaseUntil <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h":     ddb.S(holder),
			":until": ddb.N(until.UnixMilli()),
			":now":   ddb.N(now.UnixMilli()),
		},
	})
}

// PutAccessToken stores a fresh token and releases the lease (a non-zero
// forcedAt records a forced refresh). It writes the token only while holder
// still holds the lease (even an expired one nobody took over), and
// releases the lease in the same write.
func (d *DynamoStore) PutAccessToken(ctx context.Context, appid, holder, token string, expiresAt, forcedAt time.Time) error {
	if appid == "" || holder == "" || token == "" {
		return fmt.Errorf("store: PutAccessToken: empty appid, holder or token: %w", ErrInvalidArgument)
	}
	update := "SET accessToken = :t, tokenExpiresAt = :exp"
	values := map[string]types.AttributeValue{
		":t":   ddb.S(token),
		":exp": ddb.N(expiresAt.UnixMilli()),
		":h":   ddb.S(holder),
	}
	if !forcedAt.IsZero() {
		update += ", forcedAt = :f"
		values[":f"] = ddb.N(forcedAt.UnixMilli())
	}
	ok, err := d.t.ConditionalUpdate(ctx, "PutAccessToken", &dynamodb.UpdateItemInput{
		TableName:                 &d.t.Name,
		Key:                       tokenKey(appid),
		UpdateExpression:          aws.String(update + " REMOVE leaseHolder, leaseUntil"),
		ConditionExpression:       aws.String("leaseHolder = :h"),
		ExpressionAttributeValues: values,
	})
	if err == nil && !ok {
		return ErrLeaseLost
	}
	return err
}

// ReleaseTokenLease gives up holder's lease and leaves
// the token as it is. A lease holder no longer holds is left alone.
func (d *DynamoStore) ReleaseTokenLease(ctx context.Context, appid, holder string) error {
	if appid == "" || holder == "" {
		return fmt.Errorf("store: ReleaseTokenLease: empty appid or holder: %w", ErrInvalidArgument)
	}
	_, err := d.t.ConditionalUpdate(ctx, "ReleaseTokenLease", &dynamodb.UpdateItemInput{
		TableName:                 &d.t.Name,
		Key:                       tokenKey(appid),
		UpdateExpression:          aws.String("REMOVE leaseHolder, leaseUntil"),
		ConditionExpression:       aws.String("leaseHolder = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": ddb.S(holder)},
	})
	return err
}
