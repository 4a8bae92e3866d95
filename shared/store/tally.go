package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// Tally is the admission record of a limited set (a group's members, a
// member's groups or friends): how many members the last admission
// promised the set, when, and a version every admission raises. It lets
// admissions that race hold a limit without transactions: each admission
// changes the tally conditionally, so of two racing ones that read the same
// tally only one succeeds.
type Tally struct {
	Promised int
	At       time.Time
	Version  int64 // 0 before the first admission
}

// Limited names a limited set by its tally.
type Limited struct {
	key map[string]types.AttributeValue // never changed once built
}

// MembersOf is the set of a group's members.
func MembersOf(groupID string) Limited {
	return Limited{groupTallyKey(groupID)}
}

// GroupsOf is the set of a member's groups.
func GroupsOf(memberID string) Limited {
	return Limited{groupsTallyKey(memberID)}
}

// FriendsOf is the set of a member's friends.
func FriendsOf(memberID string) Limited {
	return Limited{friendsTallyKey(memberID)}
}

// Tally reads a set's tally with one strongly consistent GetItem; a set
// never admitted to has the zero Tally.
func (d *DynamoStore) Tally(ctx context.Context, set Limited) (Tally, error) {
	out, err := d.t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &d.t.Name, Key: set.key, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("promised, promisedAt, version"),
	})
	if err != nil {
		return Tally{}, ddb.Wrap("Tally", err)
	}
	return Tally{Promised: int(ddb.Num(out.Item["promised"])), At: ddb.Millis(out.Item["promisedAt"]), Version: ddb.Num(out.Item["version"])}, nil
}

// RaiseTally promises one more member on top of the tally's promise, with
// one UpdateItem; false when the promise has reached limit meanwhile.
func (d *DynamoStore) RaiseTally(ctx context.Context, set Limited, limit int, at time.Time) (bool, error) {
	return d.t.ConditionalUpdate(ctx, "RaiseTally", &dynamodb.UpdateItemInput{
		TableName:           &d.t.Name,
		Key:                 set.key,
		UpdateExpression:    aws.String("SET promisedAt = :at ADD promised :one, version :one"),
		ConditionExpression: aws.String("promised < :limit"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": ddb.N(at.UnixMilli()), ":one": ddb.N(1), ":limit": ddb.N(int64(limit)),
		},
	})
}

// ResetTally sets the promise to promised, with one UpdateItem; false when
// another admission changed the tally since read.
func (d *DynamoStore) ResetTally(ctx context.Context, set Limited, read Tally, promised int, at time.Time) (bool, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:           &d.t.Name,
		Key:                 set.key,
		UpdateExpression:    aws.String("SET promised = :p, promisedAt = :at ADD version :one"),
		ConditionExpression: aws.String("attribute_not_exists(version)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": ddb.N(int64(promised)), ":at": ddb.N(at.UnixMilli()), ":one": ddb.N(1),
		},
	}
	if read.Version != 0 {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues[":v"] = ddb.N(read.Version)
	}
	return d.t.ConditionalUpdate(ctx, "ResetTally", in)
}
