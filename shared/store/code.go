package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// RedeemedCode is what a login code gave when it was redeemed, kept for the
// code's short life so a retry of the same code (which WeChat refuses as
// used) can be answered for the same user. It is keyed by a hash of the
// code, never the code, and holds a session key: only the functions that
// redeem codes may read it (template.yaml denies the others CODE# keys).
type RedeemedCode struct {
	OpenID     string
	SessionKey string
	// Account is the account the code logged in to; "" when the login
	// failed before the account was read.
	Account   string
	ExpiresAt time.Time
}

// PutRedeemedCode keeps r under hash until r.ExpiresAt. It holds the openid,
// so OpenIDIndex lists it and a deletion removes it; TTL is only a backstop.
func (d *DynamoStore) PutRedeemedCode(ctx context.Context, hash string, r RedeemedCode) error {
	if hash == "" || r.OpenID == "" {
		return fmt.Errorf("store: PutRedeemedCode: empty hash or openid: %w", ErrInvalidArgument)
	}
	item := codeKey(hash)
	item["openid"] = ddb.S(r.OpenID)
	item["sessionKey"] = ddb.S(r.SessionKey)
	if r.Account != "" {
		item["account"] = ddb.S(r.Account)
	}
	item["expiresAt"] = ddb.N(r.ExpiresAt.Unix())
	_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
	return ddb.Wrap("PutRedeemedCode", err)
}

// GetRedeemedCode reads the record under hash with a strongly consistent
// GetItem; one past its expiry at now, which TTL has not removed yet, is
// not found.
func (d *DynamoStore) GetRedeemedCode(ctx context.Context, hash string, now time.Time) (RedeemedCode, bool, error) {
	if hash == "" {
		return RedeemedCode{}, false, fmt.Errorf("store: GetRedeemedCode: empty hash: %w", ErrInvalidArgument)
	}
	out, err := d.t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.t.Name, Key: codeKey(hash), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return RedeemedCode{}, false, ddb.Wrap("GetRedeemedCode", err)
	}
	r := RedeemedCode{
		OpenID:     ddb.Str(out.Item["openid"]),
		SessionKey: ddb.Str(out.Item["sessionKey"]),
		Account:    ddb.Str(out.Item["account"]),
		ExpiresAt:  time.Unix(ddb.Num(out.Item["expiresAt"]), 0),
	}
	if r.OpenID == "" || !now.Before(r.ExpiresAt) {
		return RedeemedCode{}, false, nil
	}
	return r, true, nil
}
