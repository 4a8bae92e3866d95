package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
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
	// keys are the items Erase deletes, codes the login-code records it
	// deletes one by one.
	keys, codes []map[string]types.AttributeValue
}

// Snapshot is one named snapshot of an app.
type Snapshot struct {
	Name      string
	Data      []byte
	ExpiresAt time.Time
}

// ErrDeleting: the user's account is being deleted; a login must wait until
// the deletion is complete.
var ErrDeleting = errors.New("store: the account is being deleted")

// Account returns the user's current account id, making it newID if the
// user has none (racing callers get one id), with one UpdateItem. It is
// ErrDeleting while a deletion of the account is pending.
func (d *DynamoStore) Account(ctx context.Context, openid, newID string) (string, error) {
	if openid == "" || newID == "" {
		return "", fmt.Errorf("store: Account: empty openid or id: %w", ErrInvalidArgument)
	}
	out, err := d.t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.t.Name,
		Key:                       accountKey(openid),
		UpdateExpression:          aws.String("SET account = if_not_exists(account, :a)"),
		ConditionExpression:       aws.String("attribute_not_exists(deleting)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": ddb.S(newID)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if ddb.IsConditionFailed(err) {
		return "", ErrDeleting
	}
	if err != nil {
		return "", ddb.Wrap("Account", err)
	}
	return ddb.Str(out.Attributes["account"]), nil
}

// CurrentAccount reads the user's account id without making one ("" for
// none) and whether its deletion is pending, strongly consistent.
func (d *DynamoStore) CurrentAccount(ctx context.Context, openid string) (account string, deleting bool, err error) {
	item, err := d.t.Get(ctx, "CurrentAccount", accountKey(openid), true)
	if err != nil {
		return "", false, err
	}
	return ddb.Str(item["account"]), item["deleting"] != nil, nil
}

// MarkDeleting marks the user's account as being deleted, only while it is
// account (false otherwise: a newer account, or none).
func (d *DynamoStore) MarkDeleting(ctx context.Context, openid, account string) (bool, error) {
	return d.t.ConditionalUpdate(ctx, "MarkDeleting", &dynamodb.UpdateItemInput{
		TableName:                 &d.t.Name,
		Key:                       accountKey(openid),
		UpdateExpression:          aws.String("SET deleting = :one"),
		ConditionExpression:       aws.String("account = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": ddb.S(account), ":one": ddb.N(1)},
	})
}

// Deletion is a deletion's pending second pass: the work item that makes a
// deletion accepted a deletion finished.
type Deletion struct {
	Account string
	OpenID  string
	Due     time.Time // when every request that authenticated before it has ended
	Until   time.Time // when the account's revocation ends
}

// PutDeletion records a pending second pass (again, with a later due time,
// when a deletion is resent).
func (d *DynamoStore) PutDeletion(ctx context.Context, del Deletion) error {
	if del.Account == "" || del.OpenID == "" {
		return fmt.Errorf("store: PutDeletion: empty account or openid: %w", ErrInvalidArgument)
	}
	item := deletionKey(del.Account)
	// "user", not "openid": OpenIDIndex must not list the work item, or the
	// first pass would erase it.
	item["user"], item["due"], item["until"] = ddb.S(del.OpenID), ddb.N(del.Due.UnixMilli()), ddb.N(del.Until.Unix())
	_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
	return ddb.Wrap("PutDeletion", err)
}

// Deletions reads the pending second passes, due or not, with one strongly
// consistent Query: there are only as many as deletions of the last minutes.
func (d *DynamoStore) Deletions(ctx context.Context) ([]Deletion, error) {
	items, err := d.t.QueryAll(ctx, "Deletions", deletionPK, "SK, #user, due, #until", map[string]string{"#user": "user", "#until": "until"})
	if err != nil {
		return nil, err
	}
	out := make([]Deletion, len(items))
	for i, item := range items {
		out[i] = Deletion{Account: ddb.Str(item["SK"]), OpenID: ddb.Str(item["user"]), Due: ddb.Millis(item["due"]),
			Until: time.Unix(ddb.Num(item["until"]), 0)}
	}
	return out, nil
}

// FinishDeletion removes a second pass that has run.
func (d *DynamoStore) FinishDeletion(ctx context.Context, account string) error {
	_, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.t.Name, Key: deletionKey(account)})
	return ddb.Wrap("FinishDeletion", err)
}

// Revoke refuses account's tokens until until, with one PutItem; done
// records that the deletion that revoked it is complete.
func (d *DynamoStore) Revoke(ctx context.Context, account string, until time.Time, done bool) error {
	if account == "" {
		return fmt.Errorf("store: Revoke: empty account: %w", ErrInvalidArgument)
	}
	item := revokedKey(account)
	item["expiresAt"] = ddb.N(until.Unix())
	if done {
		item["done"] = ddb.N(1)
	}
	_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
	return ddb.Wrap("Revoke", err)
}

// Revoked says whether account's tokens are refused at now, and whether its
// deletion is complete, with one strongly consistent GetItem that projects
// only the expiry and the state.
func (d *DynamoStore) Revoked(ctx context.Context, account string, now time.Time) (bool, bool, error) {
	if account == "" {
		return false, false, fmt.Errorf("store: Revoked: empty account: %w", ErrInvalidArgument)
	}
	out, err := d.t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.t.Name, Key: revokedKey(account), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("expiresAt, done"),
	})
	if err != nil {
		return false, false, ddb.Wrap("Revoked", err)
	}
	if out.Item == nil || !now.Before(time.Unix(ddb.Num(out.Item["expiresAt"]), 0)) {
		return false, false, nil
	}
	return true, ddb.Num(out.Item["done"]) == 1, nil
}

// Holdings reads everything stored about a user, never a session key: a
// Query of the user's partition, a Query of OpenIDIndex for every item
// elsewhere that holds the openid, and one of each member partition found
// (the pointer's, and a profile's whose pointer was never written).
func (d *DynamoStore) Holdings(ctx context.Context, openid string) (Holdings, error) {
	if openid == "" {
		return Holdings{}, fmt.Errorf("store: Holdings: empty openid: %w", ErrInvalidArgument)
	}
	h := Holdings{OpenID: openid}
	now := time.Now()
	var (
		items []map[string]types.AttributeValue
		named []map[string]types.AttributeValue
		g     errgroup.Group
	)
	g.Go(func() (err error) {
		items, err = d.t.QueryAll(ctx, "Holdings", "USER#"+openid,
			"PK, SK, steps, sourceTs, #source, updatedAt, boardShard, expiresAt, memberId, account",
			map[string]string{"#source": "source"})
		return err
	})
	g.Go(func() (err error) {
		named, err = d.t.Pages(ctx, "Holdings", &dynamodb.QueryInput{
			TableName:                 &d.t.Name,
			IndexName:                 aws.String(OpenIDIndex),
			KeyConditionExpression:    aws.String("openid = :o"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":o": ddb.S(openid)},
			ProjectionExpression:      aws.String("PK, SK"),
		})
		return err
	})
	if err := g.Wait(); err != nil {
		return Holdings{}, err
	}
	for _, item := range items {
		sk := ddb.Str(item["SK"])
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
		case sk == memberSK:
			h.MemberID = ddb.Str(item["memberId"])
		case sk == accountSK:
			h.Account = ddb.Str(item["account"])
		}
	}
	sort.Slice(h.SessionKeysIssued, func(i, j int) bool { return h.SessionKeysIssued[i].After(h.SessionKeysIssued[j]) })
	members := []string{}
	if h.MemberID != "" {
		members = append(members, h.MemberID)
	}
	for _, item := range named {
		pk, sk := ddb.Str(item["PK"]), ddb.Str(item["SK"])
		switch {
		case strings.HasPrefix(pk, CodePrefix):
			h.codes = append(h.codes, ddb.Key(pk, sk))
		case strings.HasPrefix(pk, "MEMBER#") && sk == profileSK:
			if mid := strings.TrimPrefix(pk, "MEMBER#"); !slices.Contains(members, mid) {
				members = append(members, mid)
			}
		default:
			h.keys = append(h.keys, ddb.Key(pk, sk))
		}
	}
	for _, mid := range members {
		if err := d.memberHoldings(ctx, &h, mid); err != nil {
			return Holdings{}, err
		}
	}
	// The index and the member partitions find some items twice, and one
	// BatchWriteItem may not name a key twice.
	seen := map[string]bool{}
	h.keys = slices.DeleteFunc(h.keys, func(k map[string]types.AttributeValue) bool {
		id := ddb.Str(k["PK"]) + "\x00" + ddb.Str(k["SK"])
		dup := seen[id]
		seen[id] = true
		return dup
	})
	return h, nil
}

// memberHoldings adds what member mid's partition holds; h's profile,
// groups, friends and invites are those of the pointer's member.
func (d *DynamoStore) memberHoldings(ctx context.Context, h *Holdings, mid string) error {
	items, err := d.t.QueryAll(ctx, "Holdings", "MEMBER#"+mid, "PK, SK, openid, nickname, avatarUrl, joinedAt, expiresAt", nil)
	if err != nil {
		return err
	}
	mine := mid == h.MemberID
	h.keys = append(h.keys, excludedKey(mid))
	for _, item := range items {
		sk := ddb.Str(item["SK"])
		h.keys = append(h.keys, ddb.Key("MEMBER#"+mid, sk))
		switch {
		case sk == profileSK && mine:
			h.Profile = profileOf(mid, item)
		case strings.HasPrefix(sk, "GROUP#"):
			gid := strings.TrimPrefix(sk, "GROUP#")
			if mine {
				h.Groups = append(h.Groups, Membership{GroupID: gid, MemberID: mid, OpenID: h.OpenID,
					JoinedAt: ddb.Millis(item["joinedAt"]), ExpiresAt: time.Unix(ddb.Num(item["expiresAt"]), 0)})
			}
			h.keys = append(h.keys, groupMemberKey(gid, mid))
		case strings.HasPrefix(sk, "FRIEND#"):
			fid := strings.TrimPrefix(sk, "FRIEND#")
			if mine {
				h.Friends = append(h.Friends, Friend{MemberID: fid, OpenID: ddb.Str(item["openid"])})
			}
			h.keys = append(h.keys, friendKey(fid, mid))
		case strings.HasPrefix(sk, "INVITE#"):
			code := strings.TrimPrefix(sk, "INVITE#")
			if mine {
				h.Invites = append(h.Invites, Invite{Code: code, MemberID: mid, OpenID: h.OpenID, ExpiresAt: time.Unix(ddb.Num(item["expiresAt"]), 0)})
			}
			h.keys = append(h.keys, inviteKey(code))
		}
	}
	return nil
}

// FirstPass is h without the items a deletion's second pass starts from:
// the account item, whose mark keeps logins out until the deletion is
// complete, and the memberId pointer, through which the second pass finds
// the member partition a racing join, befriend or invite wrote to (those
// items hold no openid to find them by).
func (h Holdings) FirstPass() Holdings {
	pk := "USER#" + h.OpenID
	h.keys = slices.DeleteFunc(slices.Clone(h.keys), func(k ddb.Item) bool {
		return ddb.Str(k["PK"]) == pk && (ddb.Str(k["SK"]) == accountSK || ddb.Str(k["SK"]) == memberSK)
	})
	return h
}

// leadsToOthers says whether a read of Holdings finds other items through
// this one: the account item (while it is marked, no login starts a new
// account), the memberId pointer and a profile (the member partition).
func leadsToOthers(k ddb.Item) bool {
	pk, sk := ddb.Str(k["PK"]), ddb.Str(k["SK"])
	return strings.HasPrefix(pk, "USER#") && (sk == accountSK || sk == memberSK) ||
		strings.HasPrefix(pk, "MEMBER#") && sk == profileSK
}

// Erase deletes every item of h, on both sides of its memberships and
// friendships: BatchWriteItems of 25 deletes, run at once, asking again for
// unprocessed ones, and a DeleteItem per login-code record (which no
// function may batch-write, so none can forge one). The items that lead to
// others go in a second round, once every other is gone, so an Erase cut
// short leaves what finds the rest. Deleting an item already gone is not
// an error, so an Erase may be repeated.
func (d *DynamoStore) Erase(ctx context.Context, h Holdings) error {
	var last []ddb.Item
	rest := slices.DeleteFunc(slices.Clone(h.keys), func(k ddb.Item) bool {
		if leadsToOthers(k) {
			last = append(last, k)
			return true
		}
		return false
	})
	calls := []func(context.Context) error{func(ctx context.Context) error { return d.t.DeleteAll(ctx, "Erase", rest) }}
	for _, k := range h.codes {
		calls = append(calls, func(ctx context.Context) error { return d.t.Delete(ctx, "Erase", k) })
	}
	if err := ddb.Parallel(ctx, "Erase", calls...); err != nil || len(last) == 0 {
		return err
	}
	return d.t.DeleteAll(ctx, "Erase", last)
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

// Snapshots reads the snapshots of appid whose name begins with prefix,
// with one Query.
func (d *DynamoStore) Snapshots(ctx context.Context, appid, prefix string) ([]Snapshot, error) {
	in := &dynamodb.QueryInput{
		TableName:              &d.t.Name,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": ddb.S("APP#" + appid), ":p": ddb.S("SNAPSHOT#" + prefix),
		},
		ProjectionExpression:     aws.String("SK, #data, expiresAt"),
		ExpressionAttributeNames: map[string]string{"#data": "data"},
	}
	items, err := d.t.Pages(ctx, "Snapshots", in)
	if err != nil {
		return nil, err
	}
	out := make([]Snapshot, len(items))
	for i, item := range items {
		out[i] = Snapshot{Name: strings.TrimPrefix(ddb.Str(item["SK"]), "SNAPSHOT#"),
			Data: []byte(ddb.Str(item["data"])), ExpiresAt: time.Unix(ddb.Num(item["expiresAt"]), 0)}
	}
	return out, nil
}
