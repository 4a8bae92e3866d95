package store

// The key builders: every item's PK and SK is written here and only here.
// docs/DESIGN.md's data-model table is the authority on the layout, and
// TestTheDataModelTableNamesEveryKeyTheStoreBuilds checks it against these.

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk)}
}

func userPK(openid string) types.AttributeValue { return s("USER#" + openid) }

func userPKKey(openid, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": userPK(openid), "SK": s(sk)}
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
	return key("APP#"+appid, accessTokenSK)
}

func snapshotKey(appid, name string) map[string]types.AttributeValue {
	return key("APP#"+appid, "SNAPSHOT#"+name)
}

func codeKey(hash string) map[string]types.AttributeValue { return key(CodePrefix+hash, "CODE") }

func revokedKey(account string) map[string]types.AttributeValue {
	return key("REVOKED#"+account, "REVOKED")
}

func profileKey(mid string) map[string]types.AttributeValue { return key("MEMBER#"+mid, profileSK) }

func groupIDKey(openGID string) map[string]types.AttributeValue { return key("OGID#"+openGID, "GROUP") }

func groupMemberKey(gid, mid string) map[string]types.AttributeValue {
	return key("GROUP#"+gid, "MEMBER#"+mid)
}

func memberGroupKey(mid, gid string) map[string]types.AttributeValue {
	return key("MEMBER#"+mid, "GROUP#"+gid)
}

func friendKey(mid, fmid string) map[string]types.AttributeValue {
	return key("MEMBER#"+mid, "FRIEND#"+fmid)
}

func inviteKey(code string) map[string]types.AttributeValue { return key("INVITE#"+code, "INVITE") }

func memberInviteKey(mid, code string) map[string]types.AttributeValue {
	return key("MEMBER#"+mid, "INVITE#"+code)
}

func excludedKey(mid string) map[string]types.AttributeValue { return key("EXCLUDED", "MEMBER#"+mid) }

// deletionPK is the partition of the pending second passes of deletions.
const deletionPK = "DELETION"

func deletionKey(account string) map[string]types.AttributeValue { return key(deletionPK, account) }
