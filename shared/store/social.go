package store

// The social items: who a member is, their profile, groups and friends.
//
//	USER#<openid>    / MEMBER            memberId S: the user's opaque id here
//	MEMBER#<mid>     / PROFILE           openid S, nickname S, avatarUrl S
//	MEMBER#<mid>     / FRIEND#<fmid>     openid S (the friend's), since N (unix ms)
//	MEMBER#<mid>     / GROUP#<gid>       joinedAt N (unix ms), expiresAt N (unix s, TTL)
//	GROUP#<gid>      / MEMBER#<mid>      openid S, joinedAt N, expiresAt N (TTL)
//	OGID#<openGId>   / GROUP             groupId S: the group an openGId is
//	INVITE#<code>    / INVITE            memberId S, openid S, expiresAt N (TTL)
//	MEMBER#<mid>     / INVITE#<code>     expiresAt N (TTL): the same invite, found by its member
//	EXCLUDED         / MEMBER#<mid>      written by the operator: kept off every board
//
// A membership is written twice (the group's member list, the member's
// group list) so that each side is one Query; lapsed memberships are
// skipped on read and deleted by the table's TTL.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Social is the storage of profiles, groups, friends and invites.
type Social interface {
	// MemberID returns the user's memberId, creating it as newID (with an
	// empty profile) if the user has none; two racing creators get one id.
	MemberID(ctx context.Context, openid, newID string) (string, error)
	// Profile reads a member's profile; found is false for an unknown id.
	Profile(ctx context.Context, memberID string) (p Profile, found bool, err error)
	// PutProfile stores a member's nickname and avatar.
	PutProfile(ctx context.Context, p Profile) error
	// GroupID returns the group of an openGId, creating it as newID if it
	// has none; two racing creators get one group.
	GroupID(ctx context.Context, openGID, newID string) (string, error)
	// GroupMembers reads a group's memberships current at now.
	GroupMembers(ctx context.Context, groupID string, now time.Time) ([]Membership, error)
	// MemberGroups reads a member's memberships current at now.
	MemberGroups(ctx context.Context, memberID string, now time.Time) ([]Membership, error)
	// Join writes (or renews) a membership on both sides.
	Join(ctx context.Context, m Membership) error
	// Leave deletes a membership on both sides.
	Leave(ctx context.Context, groupID, memberID string) error
	// Friends reads a member's friends.
	Friends(ctx context.Context, memberID string) ([]Friend, error)
	// Befriend writes the friendship of a and b both ways.
	Befriend(ctx context.Context, a, b Friend, since time.Time) error
	// Unfriend deletes the friendship both ways; found is false when
	// friendID was not memberID's friend.
	Unfriend(ctx context.Context, memberID, friendID string) (found bool, err error)
	// PutInvite stores an invite; Invite reads one (found false when unknown).
	PutInvite(ctx context.Context, inv Invite) error
	Invite(ctx context.Context, code string) (inv Invite, found bool, err error)
	// Excluded lists the memberIds an operator keeps off the boards.
	Excluded(ctx context.Context) (map[string]bool, error)
	// BoardItems reads, for each member, the day's item (unless date is "")
	// and the profile (if profiles), with parallel BatchGetItems: one round
	// trip however many members.
	BoardItems(ctx context.Context, date string, members []Friend, profiles bool) (map[string]BoardItem, error)
}

var _ Social = (*DynamoStore)(nil)

// Profile is what a member shows others. OpenID is never shown.
type Profile struct {
	MemberID  string
	OpenID    string
	Nickname  string
	AvatarURL string
}

// Membership is one member of one group.
type Membership struct {
	GroupID   string
	MemberID  string
	OpenID    string
	JoinedAt  time.Time
	ExpiresAt time.Time
}

// Friend names a member by both ids: the memberId others see, the openid
// their days are stored under.
type Friend struct {
	MemberID string
	OpenID   string
}

// Invite is a friend invitation from the member who made it.
type Invite struct {
	Code      string
	MemberID  string
	OpenID    string
	ExpiresAt time.Time
}

// BoardItem is what a board needs of one member for one day.
type BoardItem struct {
	Profile  Profile
	Steps    int64
	SourceTS int64
	HasDay   bool
}

// batchGetMax is BatchGetItem's limit of keys per call.
const batchGetMax = 100

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)}
}

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

// MemberID implements Social: a GetItem, and for a new user a PutItem of
// the profile and a conditional PutItem of the id; the loser of a race
// deletes its profile and reads the winner's id.
func (d *DynamoStore) MemberID(ctx context.Context, openid, newID string) (string, error) {
	if openid == "" || newID == "" {
		return "", fmt.Errorf("store: MemberID: empty openid or id: %w", ErrInvalidArgument)
	}
	k := key("USER#"+openid, "MEMBER")
	item, err := d.get(ctx, "MemberID", k, false)
	if err != nil || item != nil {
		return str(item["memberId"]), err
	}
	profile := key("MEMBER#"+newID, "PROFILE")
	profile["openid"] = s(openid)
	if _, err := d.putNew(ctx, "MemberID", profile); err != nil {
		return "", err
	}
	k["memberId"] = s(newID)
	won, err := d.putNew(ctx, "MemberID", k)
	if err != nil || won {
		return newID, err
	}
	if _, err := d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: key("MEMBER#"+newID, "PROFILE")}); err != nil {
		return "", wrap("MemberID", err)
	}
	item, err = d.get(ctx, "MemberID", key("USER#"+openid, "MEMBER"), true)
	return str(item["memberId"]), err
}

func profileOf(memberID string, item map[string]types.AttributeValue) Profile {
	return Profile{MemberID: memberID, OpenID: str(item["openid"]), Nickname: str(item["nickname"]), AvatarURL: str(item["avatarUrl"])}
}

// Profile implements Social with one GetItem.
func (d *DynamoStore) Profile(ctx context.Context, memberID string) (Profile, bool, error) {
	item, err := d.get(ctx, "Profile", key("MEMBER#"+memberID, "PROFILE"), false)
	if err != nil || item == nil {
		return Profile{}, false, err
	}
	return profileOf(memberID, item), true, nil
}

// PutProfile implements Social with one UpdateItem.
func (d *DynamoStore) PutProfile(ctx context.Context, p Profile) error {
	if p.MemberID == "" || p.OpenID == "" {
		return fmt.Errorf("store: PutProfile: empty id: %w", ErrInvalidArgument)
	}
	_, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &d.table,
		Key:              key("MEMBER#"+p.MemberID, "PROFILE"),
		UpdateExpression: aws.String("SET openid = :o, nickname = :n, avatarUrl = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": s(p.OpenID), ":n": s(p.Nickname), ":a": s(p.AvatarURL),
		},
	})
	return wrap("PutProfile", err)
}

// GroupID implements Social: a GetItem, and for a new group a conditional
// PutItem; the loser of a race reads the winner's id.
func (d *DynamoStore) GroupID(ctx context.Context, openGID, newID string) (string, error) {
	if openGID == "" || newID == "" {
		return "", fmt.Errorf("store: GroupID: empty openGId or id: %w", ErrInvalidArgument)
	}
	k := key("OGID#"+openGID, "GROUP")
	item, err := d.get(ctx, "GroupID", k, false)
	if err != nil || item != nil {
		return str(item["groupId"]), err
	}
	k["groupId"] = s(newID)
	won, err := d.putNew(ctx, "GroupID", k)
	if err != nil || won {
		return newID, err
	}
	item, err = d.get(ctx, "GroupID", key("OGID#"+openGID, "GROUP"), true)
	return str(item["groupId"]), err
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

// memberships reads the current memberships of one side: a group's
// members (pk GROUP#, items MEMBER#) or a member's groups (pk MEMBER#,
// items GROUP#); set fills in the ids the key holds.
func (d *DynamoStore) memberships(ctx context.Context, op, pk, prefix string, now time.Time, set func(m *Membership, sk string)) ([]Membership, error) {
	items, err := d.query(ctx, op, pk, prefix, true)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(items))
	for _, item := range items {
		m := Membership{
			OpenID:    str(item["openid"]),
			JoinedAt:  millis(item["joinedAt"]),
			ExpiresAt: time.Unix(num(item["expiresAt"]), 0),
		}
		if m.ExpiresAt.After(now) {
			set(&m, strings.TrimPrefix(str(item["SK"]), prefix))
			out = append(out, m)
		}
	}
	return out, nil
}

// GroupMembers implements Social with one Query (strongly consistent, so a
// join is counted by the join's own answer).
func (d *DynamoStore) GroupMembers(ctx context.Context, groupID string, now time.Time) ([]Membership, error) {
	return d.memberships(ctx, "GroupMembers", "GROUP#"+groupID, "MEMBER#", now, func(m *Membership, mid string) {
		m.GroupID, m.MemberID = groupID, mid
	})
}

// MemberGroups implements Social with one Query.
func (d *DynamoStore) MemberGroups(ctx context.Context, memberID string, now time.Time) ([]Membership, error) {
	return d.memberships(ctx, "MemberGroups", "MEMBER#"+memberID, "GROUP#", now, func(m *Membership, gid string) {
		m.GroupID, m.MemberID = gid, memberID
	})
}

// Join implements Social with two PutItems, run at once.
func (d *DynamoStore) Join(ctx context.Context, m Membership) error {
	if m.GroupID == "" || m.MemberID == "" || m.OpenID == "" {
		return fmt.Errorf("store: Join: empty id: %w", ErrInvalidArgument)
	}
	group := key("GROUP#"+m.GroupID, "MEMBER#"+m.MemberID)
	group["openid"] = s(m.OpenID)
	member := key("MEMBER#"+m.MemberID, "GROUP#"+m.GroupID)
	for _, item := range []map[string]types.AttributeValue{group, member} {
		item["joinedAt"] = n(m.JoinedAt.UnixMilli())
		item["expiresAt"] = n(m.ExpiresAt.Unix())
	}
	return d.parallel(ctx, "Join", func(ctx context.Context) error {
		_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: group})
		return err
	}, func(ctx context.Context) error {
		_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: member})
		return err
	})
}

// Leave implements Social with two DeleteItems, run at once.
func (d *DynamoStore) Leave(ctx context.Context, groupID, memberID string) error {
	return d.deleteBoth(ctx, "Leave", key("GROUP#"+groupID, "MEMBER#"+memberID), key("MEMBER#"+memberID, "GROUP#"+groupID))
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
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = call(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return wrap(op, err)
		}
	}
	return nil
}

// Friends implements Social with one Query.
func (d *DynamoStore) Friends(ctx context.Context, memberID string) ([]Friend, error) {
	items, err := d.query(ctx, "Friends", "MEMBER#"+memberID, "FRIEND#", true)
	if err != nil {
		return nil, err
	}
	out := make([]Friend, len(items))
	for i, item := range items {
		out[i] = Friend{MemberID: strings.TrimPrefix(str(item["SK"]), "FRIEND#"), OpenID: str(item["openid"])}
	}
	return out, nil
}

// Befriend implements Social with two PutItems, run at once.
func (d *DynamoStore) Befriend(ctx context.Context, a, b Friend, since time.Time) error {
	if a.MemberID == "" || b.MemberID == "" || a.OpenID == "" || b.OpenID == "" {
		return fmt.Errorf("store: Befriend: empty id: %w", ErrInvalidArgument)
	}
	put := func(of, friend Friend) func(context.Context) error {
		item := key("MEMBER#"+of.MemberID, "FRIEND#"+friend.MemberID)
		item["openid"] = s(friend.OpenID)
		item["since"] = n(since.UnixMilli())
		return func(ctx context.Context) error {
			_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item})
			return err
		}
	}
	return d.parallel(ctx, "Befriend", put(a, b), put(b, a))
}

// Unfriend implements Social: a DeleteItem that returns the old item, then
// the other side's DeleteItem.
func (d *DynamoStore) Unfriend(ctx context.Context, memberID, friendID string) (bool, error) {
	out, err := d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &d.table, Key: key("MEMBER#"+memberID, "FRIEND#"+friendID), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, wrap("Unfriend", err)
	}
	if out.Attributes == nil {
		return false, nil
	}
	_, err = d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: key("MEMBER#"+friendID, "FRIEND#"+memberID)})
	return true, wrap("Unfriend", err)
}

// PutInvite implements Social with two PutItems, run at once: the invite,
// and its copy in the member's partition that an export or a deletion
// finds it by.
func (d *DynamoStore) PutInvite(ctx context.Context, inv Invite) error {
	item := key("INVITE#"+inv.Code, "INVITE")
	item["memberId"] = s(inv.MemberID)
	item["openid"] = s(inv.OpenID)
	mine := key("MEMBER#"+inv.MemberID, "INVITE#"+inv.Code)
	put := func(item map[string]types.AttributeValue) func(context.Context) error {
		item["expiresAt"] = n(inv.ExpiresAt.Unix())
		return func(ctx context.Context) error {
			_, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item})
			return err
		}
	}
	return d.parallel(ctx, "PutInvite", put(item), put(mine))
}

// Invite implements Social with one GetItem.
func (d *DynamoStore) Invite(ctx context.Context, code string) (Invite, bool, error) {
	item, err := d.get(ctx, "Invite", key("INVITE#"+code, "INVITE"), false)
	if err != nil || item == nil {
		return Invite{}, false, err
	}
	return Invite{Code: code, MemberID: str(item["memberId"]), OpenID: str(item["openid"]),
		ExpiresAt: time.Unix(num(item["expiresAt"]), 0)}, true, nil
}

// Excluded implements Social with one Query of the EXCLUDED partition.
func (d *DynamoStore) Excluded(ctx context.Context) (map[string]bool, error) {
	items, err := d.query(ctx, "Excluded", "EXCLUDED", "MEMBER#", false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(items))
	for _, item := range items {
		out[strings.TrimPrefix(str(item["SK"]), "MEMBER#")] = true
	}
	return out, nil
}

// BoardItems implements Social: the day item and the profile of each
// member, up to 2 keys a member, in BatchGetItems of 100 keys run at once (500
// members: 10 calls, one round trip). Keys a call leaves unprocessed
// (throttling) are asked again.
func (d *DynamoStore) BoardItems(ctx context.Context, date string, members []Friend, profiles bool) (map[string]BoardItem, error) {
	keys := make([]map[string]types.AttributeValue, 0, 2*len(members))
	byOpenID := make(map[string]string, len(members))
	for _, m := range members {
		byOpenID[m.OpenID] = m.MemberID
		if date != "" {
			keys = append(keys, userPKKey(m.OpenID, dayPrefix+date))
		}
		if profiles {
			keys = append(keys, key("MEMBER#"+m.MemberID, "PROFILE"))
		}
	}
	out := make(map[string]BoardItem, len(members))
	var mu sync.Mutex
	var calls []func(context.Context) error
	for start := 0; start < len(keys); start += batchGetMax {
		chunk := keys[start:min(start+batchGetMax, len(keys))]
		calls = append(calls, func(ctx context.Context) error {
			items, err := d.batchGet(ctx, chunk)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, item := range items {
				pk := str(item["PK"])
				switch {
				case strings.HasPrefix(pk, "USER#"):
					mid := byOpenID[strings.TrimPrefix(pk, "USER#")]
					b := out[mid]
					b.Steps, b.SourceTS, b.HasDay = num(item["steps"]), num(item["sourceTs"]), true
					out[mid] = b
				case strings.HasPrefix(pk, "MEMBER#"):
					mid := strings.TrimPrefix(pk, "MEMBER#")
					b := out[mid]
					b.Profile = profileOf(mid, item)
					out[mid] = b
				}
			}
			return nil
		})
	}
	if err := d.parallel(ctx, "BoardItems", calls...); err != nil {
		return nil, err
	}
	return out, nil
}

func userPKKey(openid, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": userPK(openid), "SK": s(sk)}
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
