package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

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

// MemberID returns the user's memberId, creating it as newID (with an empty
// profile) if the user has none; two racing creators get one id. It is a
// GetItem, and for a new user a PutItem of the profile and a conditional
// PutItem of the id; the loser of a race deletes its profile and reads the
// winner's id.
func (d *DynamoStore) MemberID(ctx context.Context, openid, newID string) (string, error) {
	if openid == "" || newID == "" {
		return "", fmt.Errorf("store: MemberID: empty openid or id: %w", ErrInvalidArgument)
	}
	k := memberIDKey(openid)
	item, err := d.t.Get(ctx, "MemberID", k, false)
	if err != nil || item != nil {
		return ddb.Str(item["memberId"]), err
	}
	profile := profileKey(newID)
	profile["openid"] = ddb.S(openid)
	if _, err := d.t.PutNew(ctx, "MemberID", profile); err != nil {
		return "", err
	}
	k["memberId"] = ddb.S(newID)
	won, err := d.t.PutNew(ctx, "MemberID", k)
	if err != nil || won {
		return newID, err
	}
	if _, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.t.Name, Key: profileKey(newID)}); err != nil {
		return "", ddb.Wrap("MemberID", err)
	}
	item, err = d.t.Get(ctx, "MemberID", memberIDKey(openid), true)
	return ddb.Str(item["memberId"]), err
}

// Profile reads a member's profile; found is false for an unknown id. It is
// one GetItem.
func (d *DynamoStore) Profile(ctx context.Context, memberID string) (Profile, bool, error) {
	item, err := d.t.Get(ctx, "Profile", profileKey(memberID), false)
	if err != nil || item == nil {
		return Profile{}, false, err
	}
	return profileOf(memberID, item), true, nil
}

// PutProfile stores a member's nickname and avatar. It is one
// UpdateItem.
func (d *DynamoStore) PutProfile(ctx context.Context, p Profile) error {
	if p.MemberID == "" || p.OpenID == "" {
		return fmt.Errorf("store: PutProfile: empty id: %w", ErrInvalidArgument)
	}
	_, err := d.t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &d.t.Name,
		Key:              profileKey(p.MemberID),
		UpdateExpression: aws.String("SET openid = :o, nickname = :n, avatarUrl = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": ddb.S(p.OpenID), ":n": ddb.S(p.Nickname), ":a": ddb.S(p.AvatarURL),
		},
	})
	return ddb.Wrap("PutProfile", err)
}

// GroupID returns the group of an openGId, creating it as newID if it has
// none; two racing creators get one group. It is a GetItem, and for a new
// group a conditional PutItem; the loser of a race reads the winner's id.
func (d *DynamoStore) GroupID(ctx context.Context, openGID, newID string) (string, error) {
	if openGID == "" || newID == "" {
		return "", fmt.Errorf("store: GroupID: empty openGId or id: %w", ErrInvalidArgument)
	}
	k := groupIDKey(openGID)
	item, err := d.t.Get(ctx, "GroupID", k, false)
	if err != nil || item != nil {
		return ddb.Str(item["groupId"]), err
	}
	k["groupId"] = ddb.S(newID)
	won, err := d.t.PutNew(ctx, "GroupID", k)
	if err != nil || won {
		return newID, err
	}
	item, err = d.t.Get(ctx, "GroupID", groupIDKey(openGID), true)
	return ddb.Str(item["groupId"]), err
}

// memberships reads the current memberships of one side: a group's
// members (pk GROUP#, items MEMBER#) or a member's groups (pk MEMBER#,
// items GROUP#); set fills in the ids the key holds.
func (d *DynamoStore) memberships(ctx context.Context, op, pk, prefix string, now time.Time, set func(m *Membership, sk string)) ([]Membership, error) {
	items, err := d.t.Query(ctx, op, pk, prefix, true)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(items))
	for _, item := range items {
		m := Membership{
			OpenID:    ddb.Str(item["openid"]),
			JoinedAt:  ddb.Millis(item["joinedAt"]),
			ExpiresAt: time.Unix(ddb.Num(item["expiresAt"]), 0),
		}
		if m.ExpiresAt.After(now) {
			set(&m, strings.TrimPrefix(ddb.Str(item["SK"]), prefix))
			out = append(out, m)
		}
	}
	return out, nil
}

// GroupMembers reads a group's memberships current at now. It is one
// Query (strongly consistent, so a join is counted by the join's own
// answer).
func (d *DynamoStore) GroupMembers(ctx context.Context, groupID string, now time.Time) ([]Membership, error) {
	return d.memberships(ctx, "GroupMembers", "GROUP#"+groupID, "MEMBER#", now, func(m *Membership, mid string) {
		m.GroupID, m.MemberID = groupID, mid
	})
}

// MemberGroups reads a member's memberships current at now. It is one
// Query.
func (d *DynamoStore) MemberGroups(ctx context.Context, memberID string, now time.Time) ([]Membership, error) {
	return d.memberships(ctx, "MemberGroups", "MEMBER#"+memberID, "GROUP#", now, func(m *Membership, gid string) {
		m.GroupID, m.MemberID = gid, memberID
	})
}

// Join writes (or renews) a membership on both sides. It is two
// PutItems, run at once.
func (d *DynamoStore) Join(ctx context.Context, m Membership) error {
	if m.GroupID == "" || m.MemberID == "" || m.OpenID == "" {
		return fmt.Errorf("store: Join: empty id: %w", ErrInvalidArgument)
	}
	group := groupMemberKey(m.GroupID, m.MemberID)
	group["openid"] = ddb.S(m.OpenID)
	member := memberGroupKey(m.MemberID, m.GroupID)
	for _, item := range []map[string]types.AttributeValue{group, member} {
		item["joinedAt"] = ddb.N(m.JoinedAt.UnixMilli())
		item["expiresAt"] = ddb.N(m.ExpiresAt.Unix())
	}
	return ddb.Parallel(ctx, "Join", func(ctx context.Context) error {
		_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: group})
		return err
	}, func(ctx context.Context) error {
		_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: member})
		return err
	})
}

// Renew renews a membership on both sides, each only over a membership
// still current at now; ok is false when a side was not (the other may
// have been renewed). It is two conditional UpdateItems, run at once. A
// renewal is not admitted against the limits, so it must never
// re-create a membership that lapsed or was left meanwhile.
func (d *DynamoStore) Renew(ctx context.Context, m Membership, now time.Time) (bool, error) {
	if m.GroupID == "" || m.MemberID == "" || m.OpenID == "" {
		return false, fmt.Errorf("store: Renew: empty id: %w", ErrInvalidArgument)
	}
	var lost atomic.Bool
	renew := func(k map[string]types.AttributeValue) func(context.Context) error {
		in := &dynamodb.UpdateItemInput{
			TableName:           &d.t.Name,
			Key:                 k,
			UpdateExpression:    aws.String("SET joinedAt = :j, expiresAt = :e"),
			ConditionExpression: aws.String("expiresAt > :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":j": ddb.N(m.JoinedAt.UnixMilli()), ":e": ddb.N(m.ExpiresAt.Unix()), ":now": ddb.N(now.Unix()),
			},
		}
		return func(ctx context.Context) error {
			_, err := d.t.DB.UpdateItem(ctx, in)
			if ddb.IsConditionFailed(err) {
				lost.Store(true)
				return nil
			}
			return err
		}
	}
	err := ddb.Parallel(ctx, "Renew", renew(groupMemberKey(m.GroupID, m.MemberID)), renew(memberGroupKey(m.MemberID, m.GroupID)))
	return err == nil && !lost.Load(), err
}

// Leave deletes a membership on both sides. It is two DeleteItems, run
// at once.
func (d *DynamoStore) Leave(ctx context.Context, groupID, memberID string) error {
	return d.deleteBoth(ctx, "Leave", groupMemberKey(groupID, memberID), memberGroupKey(memberID, groupID))
}

// Friends reads a member's friends. It is one Query.
func (d *DynamoStore) Friends(ctx context.Context, memberID string) ([]Friend, error) {
	items, err := d.t.Query(ctx, "Friends", "MEMBER#"+memberID, "FRIEND#", true)
	if err != nil {
		return nil, err
	}
	out := make([]Friend, len(items))
	for i, item := range items {
		out[i] = Friend{MemberID: strings.TrimPrefix(ddb.Str(item["SK"]), "FRIEND#"), OpenID: ddb.Str(item["openid"])}
	}
	return out, nil
}

// Befriend writes the friendship of a and b both ways. It is two
// PutItems, run at once.
func (d *DynamoStore) Befriend(ctx context.Context, a, b Friend, since time.Time) error {
	if a.MemberID == "" || b.MemberID == "" || a.OpenID == "" || b.OpenID == "" {
		return fmt.Errorf("store: Befriend: empty id: %w", ErrInvalidArgument)
	}
	put := func(of, friend Friend) func(context.Context) error {
		item := friendKey(of.MemberID, friend.MemberID)
		item["openid"] = ddb.S(friend.OpenID)
		item["since"] = ddb.N(since.UnixMilli())
		return func(ctx context.Context) error {
			_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
			return err
		}
	}
	return ddb.Parallel(ctx, "Befriend", put(a, b), put(b, a))
}

// Unfriend deletes the friendship both ways; found is false when friendID
// was not memberID's friend. It is a DeleteItem that returns the old item,
// then the other side's DeleteItem.
func (d *DynamoStore) Unfriend(ctx context.Context, memberID, friendID string) (bool, error) {
	out, err := d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &d.t.Name, Key: friendKey(memberID, friendID), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, ddb.Wrap("Unfriend", err)
	}
	if out.Attributes == nil {
		return false, nil
	}
	_, err = d.t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.t.Name, Key: friendKey(friendID, memberID)})
	return true, ddb.Wrap("Unfriend", err)
}

// PutInvite stores an invite. It is two PutItems, run at once: the invite, and its copy in the
// member's partition that an export or a deletion finds it by.
func (d *DynamoStore) PutInvite(ctx context.Context, inv Invite) error {
	item := inviteKey(inv.Code)
	item["memberId"] = ddb.S(inv.MemberID)
	item["openid"] = ddb.S(inv.OpenID)
	mine := memberInviteKey(inv.MemberID, inv.Code)
	put := func(item map[string]types.AttributeValue) func(context.Context) error {
		item["expiresAt"] = ddb.N(inv.ExpiresAt.Unix())
		return func(ctx context.Context) error {
			_, err := d.t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.t.Name, Item: item})
			return err
		}
	}
	return ddb.Parallel(ctx, "PutInvite", put(item), put(mine))
}

// Invite reads an invite (found is false when unknown), with one GetItem.
func (d *DynamoStore) Invite(ctx context.Context, code string) (Invite, bool, error) {
	item, err := d.t.Get(ctx, "Invite", inviteKey(code), false)
	if err != nil || item == nil {
		return Invite{}, false, err
	}
	return Invite{Code: code, MemberID: ddb.Str(item["memberId"]), OpenID: ddb.Str(item["openid"]),
		ExpiresAt: time.Unix(ddb.Num(item["expiresAt"]), 0)}, true, nil
}

// Excluded lists the memberIds an operator keeps off the boards. It is
// one Query of the EXCLUDED partition.
func (d *DynamoStore) Excluded(ctx context.Context) (map[string]bool, error) {
	items, err := d.t.Query(ctx, "Excluded", "EXCLUDED", "MEMBER#", false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(items))
	for _, item := range items {
		out[strings.TrimPrefix(ddb.Str(item["SK"]), "MEMBER#")] = true
	}
	return out, nil
}

// BoardItems reads, for each member, the day's item (unless date is "") and
// the profile (if profiles), with parallel BatchGetItems: one round trip
// however many members. It is the day item and the profile of each member,
// up to 2 keys a member, in BatchGetItems of 100 keys run at once (500
// members: 10 calls, one round trip). Keys a call leaves unprocessed
// (throttling) are asked again.
func (d *DynamoStore) BoardItems(ctx context.Context, date string, members []Friend, profiles bool) (map[string]BoardItem, error) {
	keys := make([]map[string]types.AttributeValue, 0, 2*len(members))
	byOpenID := make(map[string]string, len(members))
	for _, m := range members {
		byOpenID[m.OpenID] = m.MemberID
		if date != "" {
			keys = append(keys, dayKey(m.OpenID, date))
		}
		if profiles {
			keys = append(keys, profileKey(m.MemberID))
		}
	}
	out := make(map[string]BoardItem, len(members))
	var mu sync.Mutex
	var calls []func(context.Context) error
	for start := 0; start < len(keys); start += ddb.BatchGetMax {
		chunk := keys[start:min(start+ddb.BatchGetMax, len(keys))]
		calls = append(calls, func(ctx context.Context) error {
			items, err := d.batchGet(ctx, chunk)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, item := range items {
				pk := ddb.Str(item["PK"])
				switch {
				case strings.HasPrefix(pk, "USER#"):
					mid := byOpenID[strings.TrimPrefix(pk, "USER#")]
					b := out[mid]
					b.Steps, b.SourceTS, b.HasDay = ddb.Num(item["steps"]), ddb.Num(item["sourceTs"]), true
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
	if err := ddb.Parallel(ctx, "BoardItems", calls...); err != nil {
		return nil, err
	}
	return out, nil
}
