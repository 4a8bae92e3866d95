package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Holdings is everything stored about one user.
type Holdings struct {
	OpenID   string
	Account  string // "" when the user never logged in since accounts began
	MemberID string // "" when the user never used groups, friends or a profile
	Days     []Day  // date ascending, every stored day not past its expiry
	// SessionKeysIssued says when each held session key was issued, newest
	// first; the keys themselves are never read.
	SessionKeysIssued []time.Time
	Profile           Profile // empty without a MemberID
	Groups            []Membership
	Friends           []Friend
	Invites           []Invite
	// keys are the items Erase deletes.
	keys []map[string]types.AttributeValue
}

// Snapshot is one named snapshot of an app.
type Snapshot struct {
	Name      string
	Data      []byte
	ExpiresAt time.Time
}

// batchWriteMax is BatchWriteItem's limit of requests per call.
const batchWriteMax = 25

// Account implements Accounts with one UpdateItem.
func (d *DynamoStore) Account(ctx context.Context, openid, newID string) (string, error) {
	if openid == "" || newID == "" {
		return "", fmt.Errorf("store: Account: empty openid or id: %w", ErrInvalidArgument)
	}
	out, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       accountKey(openid),
		UpdateExpression:          aws.String("SET account = if_not_exists(account, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": s(newID)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return "", wrap("Account", err)
	}
	return str(out.Attributes["account"]), nil
}

// Revoke implements Accounts with one PutItem.
func (d *DynamoStore) Revoke(ctx context.Context, account string, until time.Time, done bool) error {
	if account == "" {
		return fmt.Errorf("store: Revoke: empty account: %w", ErrInvalidArgument)
	}
	item := revokedKey(account)
	item["expiresAt"] = n(until.Unix())
	if done {
		item["done"] = n(1)
	}
	_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item})
	return wrap("Revoke", err)
}

// Revoked implements Accounts with one strongly consistent GetItem that
// projects only the expiry and the state.
func (d *DynamoStore) Revoked(ctx context.Context, account string, now time.Time) (bool, bool, error) {
	if account == "" {
		return false, false, fmt.Errorf("store: Revoked: empty account: %w", ErrInvalidArgument)
	}
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.table, Key: revokedKey(account), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("expiresAt, done"),
	})
	if err != nil {
		return false, false, wrap("Revoked", err)
	}
	if out.Item == nil || !now.Before(time.Unix(num(out.Item["expiresAt"]), 0)) {
		return false, false, nil
	}
	return true, num(out.Item["done"]) == 1, nil
}

// Holdings implements Accounts: a Query of the user's partition and, for a
// member, one of the member's partition; both project away session keys.
func (d *DynamoStore) Holdings(ctx context.Context, openid string) (Holdings, error) {
	if openid == "" {
		return Holdings{}, fmt.Errorf("store: Holdings: empty openid: %w", ErrInvalidArgument)
	}
	h := Holdings{OpenID: openid}
	now := time.Now()
	items, err := d.queryAll(ctx, "Holdings", "USER#"+openid,
		"PK, SK, steps, sourceTs, #source, updatedAt, boardShard, expiresAt, memberId, account",
		map[string]string{"#source": "source"})
	if err != nil {
		return Holdings{}, err
	}
	for _, item := range items {
		sk := str(item["SK"])
		h.keys = append(h.keys, userPKKey(openid, sk))
		switch {
		case isMark(sk): // the events' own export lists them
		case strings.HasPrefix(sk, dayPrefix):
			if day := dayOf(item); !expired(day, now) {
				h.Days = append(h.Days, day)
			}
		case strings.HasPrefix(sk, skeyPrefix):
			if nanos, err := strconv.ParseInt(strings.TrimPrefix(sk, skeyPrefix), 10, 64); err == nil {
				h.SessionKeysIssued = append(h.SessionKeysIssued, time.Unix(0, nanos))
			}
		case sk == "MEMBER":
			h.MemberID = str(item["memberId"])
		case sk == accountSK:
			h.Account = str(item["account"])
		}
	}
	sort.Slice(h.SessionKeysIssued, func(i, j int) bool { return h.SessionKeysIssued[i].After(h.SessionKeysIssued[j]) })
	if h.MemberID == "" {
		return h, nil
	}
	mid := h.MemberID
	items, err = d.queryAll(ctx, "Holdings", "MEMBER#"+mid, "PK, SK, openid, nickname, avatarUrl, joinedAt, expiresAt", nil)
	if err != nil {
		return Holdings{}, err
	}
	h.keys = append(h.keys, excludedKey(mid))
	for _, item := range items {
		sk := str(item["SK"])
		h.keys = append(h.keys, key("MEMBER#"+mid, sk))
		switch {
		case sk == "PROFILE":
			h.Profile = profileOf(mid, item)
		case strings.HasPrefix(sk, "GROUP#"):
			gid := strings.TrimPrefix(sk, "GROUP#")
			h.Groups = append(h.Groups, Membership{GroupID: gid, MemberID: mid, OpenID: openid,
				JoinedAt: millis(item["joinedAt"]), ExpiresAt: time.Unix(num(item["expiresAt"]), 0)})
			h.keys = append(h.keys, groupMemberKey(gid, mid))
		case strings.HasPrefix(sk, "FRIEND#"):
			fid := strings.TrimPrefix(sk, "FRIEND#")
			h.Friends = append(h.Friends, Friend{MemberID: fid, OpenID: str(item["openid"])})
			h.keys = append(h.keys, friendKey(fid, mid))
		case strings.HasPrefix(sk, "INVITE#"):
			code := strings.TrimPrefix(sk, "INVITE#")
			h.Invites = append(h.Invites, Invite{Code: code, MemberID: mid, OpenID: openid, ExpiresAt: time.Unix(num(item["expiresAt"]), 0)})
			h.keys = append(h.keys, inviteKey(code))
		}
	}
	return h, nil
}

// Erase implements Accounts: BatchWriteItems of 25 deletes, run at once,
// asking again for unprocessed ones. Deleting an item already gone is not
// an error, so an Erase may be repeated.
func (d *DynamoStore) Erase(ctx context.Context, h Holdings) error {
	var calls []func(context.Context) error
	for start := 0; start < len(h.keys); start += batchWriteMax {
		chunk := h.keys[start:min(start+batchWriteMax, len(h.keys))]
		calls = append(calls, func(ctx context.Context) error {
			reqs := make([]types.WriteRequest, len(chunk))
			for i, k := range chunk {
				reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
			}
			pending := map[string][]types.WriteRequest{d.table: reqs}
			for len(pending) > 0 {
				out, err := d.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return err
				}
				if pending = out.UnprocessedItems; len(pending) > 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			return nil
		})
	}
	return d.parallel(ctx, "Erase", calls...)
}

// ForgetDays deletes the given days of a user, with the BatchWriteItems of
// Erase.
func (d *DynamoStore) ForgetDays(ctx context.Context, openid string, days []Day) error {
	h := Holdings{OpenID: openid}
	for _, day := range days {
		h.keys = append(h.keys, dayKey(openid, day.Date))
	}
	return d.Erase(ctx, h)
}

// Snapshots implements Accounts with one Query.
func (d *DynamoStore) Snapshots(ctx context.Context, appid, prefix string) ([]Snapshot, error) {
	in := &dynamodb.QueryInput{
		TableName:              &d.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s("APP#" + appid), ":p": s("SNAPSHOT#" + prefix),
		},
		ProjectionExpression:     aws.String("SK, #data, expiresAt"),
		ExpressionAttributeNames: map[string]string{"#data": "data"},
	}
	items, err := d.pages(ctx, "Snapshots", in)
	if err != nil {
		return nil, err
	}
	out := make([]Snapshot, len(items))
	for i, item := range items {
		out[i] = Snapshot{Name: strings.TrimPrefix(str(item["SK"]), "SNAPSHOT#"),
			Data: []byte(str(item["data"])), ExpiresAt: time.Unix(num(item["expiresAt"]), 0)}
	}
	return out, nil
}
