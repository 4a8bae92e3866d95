package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func millis(av types.AttributeValue) time.Time {
	if _, ok := av.(*types.AttributeValueMemberN); !ok {
		return time.Time{}
	}
	return time.UnixMilli(num(av))
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func str(av types.AttributeValue) string {
	if v, ok := av.(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(av types.AttributeValue) int64 {
	if v, ok := av.(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

func dayOf(item map[string]types.AttributeValue) Day {
	return Day{
		Date:      strings.TrimPrefix(str(item["SK"]), dayPrefix),
		Steps:     num(item["steps"]),
		SourceTS:  num(item["sourceTs"]),
		Source:    str(item["source"]),
		UpdatedAt: millis(item["updatedAt"]),
		Board:     str(item["boardShard"]),
		ExpiresAt: unixOrZero(item["expiresAt"]),
	}
}

func unixOrZero(av types.AttributeValue) time.Time {
	if v := num(av); v != 0 {
		return time.Unix(v, 0)
	}
	return time.Time{}
}

// expired: TTL deletion is lazy (up to days late), so reads skip a day past
// its expiry themselves.
func expired(d Day, now time.Time) bool {
	return !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt)
}

// dayProjection names what a read of days needs, and no secret: a session
// key shares the days' partition.
const dayProjection = "SK, steps, sourceTs, #source, updatedAt, boardShard, expiresAt"

func encodeCursor(key map[string]types.AttributeValue) string {
	if len(key) == 0 {
		return ""
	}
	m := make(map[string]string, len(key))
	for k, v := range key {
		m[k] = str(v)
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var m map[string]string
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("store: BoardPage: malformed cursor: %w", ErrInvalidArgument)
	}
	key := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		key[k] = s(v)
	}
	return key, nil
}

func profileOf(memberID string, item map[string]types.AttributeValue) Profile {
	return Profile{MemberID: memberID, OpenID: str(item["openid"]), Nickname: str(item["nickname"]), AvatarURL: str(item["avatarUrl"])}
}
