package store

// The key builders: every item's PK and SK is written here and only here.
// docs/DESIGN.md's data-model table is the authority on the layout, and
// TestTheDataModelTableNamesEveryKeyTheStoreBuilds checks it against these.

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// Sort-key prefixes and fixed sort keys of the items the store reads by
// prefix or by name.
const (
	dayPrefix     = "DAY#"
	skeyPrefix    = "SKEY#"
	accountSK     = "ACCOUNT"
	memberSK      = "MEMBER"
	profileSK     = "PROFILE"
	accessTokenSK = "ACCESS_TOKEN"
)

// CodePrefix starts the partition key of every RedeemedCode item.
const CodePrefix = "CODE#"

func userPK(openid string) types.AttributeValue { return ddb.S("USER#" + openid) }

func userPKKey(openid, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": userPK(openid), "SK": ddb.S(sk)}
}

func dayKey(openid, date string) map[string]types.AttributeValue {
	return userPKKey(openid, dayPrefix+date)
}

func skeySK(issuedAt time.Time) string {
	// Zero-padded so the string order is the time order.
	return fmt.Sprintf("%s%020d", skeyPrefix, issuedAt.UnixNano())
}

func accountKey(openid string) map[string]types.AttributeValue  { return userPKKey(openid, accountSK) }
func memberIDKey(openid string) map[string]types.AttributeValue { return userPKKey(openid, memberSK) }

func tokenKey(appid string) map[string]types.AttributeValue {
	return ddb.Key("APP#"+appid, accessTokenSK)
}

func snapshotKey(appid, name string) map[string]types.AttributeValue {
	return ddb.Key("APP#"+appid, "SNAPSHOT#"+name)
}

func codeKey(hash string) map[string]types.AttributeValue { return ddb.Key(CodePrefix+hash, "CODE") }

func revokedKey(account string) map[string]types.AttributeValue {
	return ddb.Key("REVOKED#"+account, "REVOKED")
}

func profileKey(mid string) map[string]types.AttributeValue { return ddb.Key("MEMBER#"+mid, profileSK) }

func groupIDKey(openGID string) map[string]types.AttributeValue {
	return ddb.Key("OGID#"+openGID, "GROUP")
}

func groupMemberKey(gid, mid string) map[string]types.AttributeValue {
	return ddb.Key("GROUP#"+gid, "MEMBER#"+mid)
}

func memberGroupKey(mid, gid string) map[string]types.AttributeValue {
	return ddb.Key("MEMBER#"+mid, "GROUP#"+gid)
}

func friendKey(mid, fmid string) map[string]types.AttributeValue {
	return ddb.Key("MEMBER#"+mid, "FRIEND#"+fmid)
}

func inviteKey(code string) map[string]types.AttributeValue { return ddb.Key("INVITE#"+code, "INVITE") }

func memberInviteKey(mid, code string) map[string]types.AttributeValue {
	return ddb.Key("MEMBER#"+mid, "INVITE#"+code)
}

// The tallies of the limited sets: a group's in its own partition, a
// member's in the member's, so a deletion of the member erases them.
func groupTallyKey(gid string) map[string]types.AttributeValue {
	return ddb.Key("GROUP#"+gid, "MEMBERS")
}
func groupsTallyKey(mid string) map[string]types.AttributeValue {
	return ddb.Key("MEMBER#"+mid, "GROUPS")
}
func friendsTallyKey(mid string) map[string]types.AttributeValue {
	return ddb.Key("MEMBER#"+mid, "FRIENDS")
}

func excludedKey(mid string) map[string]types.AttributeValue {
	return ddb.Key("EXCLUDED", "MEMBER#"+mid)
}

// deletionPK is the partition of the pending second passes of deletions.
const deletionPK = "DELETION"

func deletionKey(account string) map[string]types.AttributeValue { return ddb.Key(deletionPK, account) }
