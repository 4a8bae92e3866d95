package store

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

func dayOf(item map[string]types.AttributeValue) Day {
	return Day{
		Date:      strings.TrimPrefix(ddb.Str(item["SK"]), dayPrefix),
		Steps:     ddb.Num(item["steps"]),
		SourceTS:  ddb.Num(item["sourceTs"]),
		Source:    ddb.Str(item["source"]),
		UpdatedAt: ddb.Millis(item["updatedAt"]),
		Board:     ddb.Str(item["boardShard"]),
		ExpiresAt: ddb.UnixOrZero(item["expiresAt"]),
	}
}

// expired: TTL deletion is lazy (up to days late), so reads skip a day past
// its expiry themselves.
func expired(d Day, now time.Time) bool {
	return !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt)
}

// dayProjection names what a read of days needs, and no secret: a session
// key shares the days' partition.
const dayProjection = "SK, steps, sourceTs, #source, updatedAt, boardShard, expiresAt"

func profileOf(memberID string, item map[string]types.AttributeValue) Profile {
	return Profile{MemberID: memberID, OpenID: ddb.Str(item["openid"]), Nickname: ddb.Str(item["nickname"]), AvatarURL: ddb.Str(item["avatarUrl"])}
}
