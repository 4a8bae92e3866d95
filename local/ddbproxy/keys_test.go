package ddbproxy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
)

// TestTheKeysARuleSeesInEachOperation sends each operation the SDK has
// through a rule that matches everything and reads, from the log, the
// partition-key values the proxy found in it: the values a KeyPrefix is
// matched against.
func TestTheKeysARuleSeesInEachOperation(t *testing.T) {
	p := ddbproxy.ForTests(t)
	// Skipping every request: each is logged with its keys and forwarded.
	if _, err := p.Add(ddbproxy.Rule{Action: ddbproxy.Fail, Skip: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	db, tbl := functionsClient(p.URL, 1), aws.String(services.TableName)
	ctx := context.Background()
	vals := func(kv ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = s(kv[i+1])
		}
		return m
	}
	tests := []struct {
		name string
		do   func() error
		want []string
	}{
		{"GetItem: Key", func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("USER#get")})
			return err
		}, []string{"USER#get"}},
		{"PutItem: Item", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key("USER#put")})
			return err
		}, []string{"USER#put"}},
		{"UpdateItem: Key", func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key("USER#update"),
				UpdateExpression: aws.String("SET a = :a"), ExpressionAttributeValues: vals(":a", "GROUP#not-a-key")})
			return err
		}, []string{"USER#update"}},
		{"DeleteItem: Key", func() error {
			_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key("USER#delete")})
			return err
		}, []string{"USER#delete"}},
		{"Query: the partition key's value, not the sort key's", func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
				ExpressionAttributeValues: vals(":pk", "USER#query", ":p", "GROUP#")})
			return err
		}, []string{"USER#query"}},
		{"Query: a name placeholder, the value first, and BETWEEN", func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String(":v=#k AND SK BETWEEN :a AND :b"),
				ExpressionAttributeNames: map[string]string{"#k": "PK"}, ExpressionAttributeValues: vals(":v", "BOARD#q", ":a", "A", ":b", "B")})
			return err
		}, []string{"BOARD#q"}},
		{"Query: a sort-key range is no key", func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("PK = :pk AND SK >= :from"),
				ExpressionAttributeValues: vals(":pk", "USER#range", ":from", "DAY#")})
			return err
		}, []string{"USER#range"}},
		{"Query on an index: the index's partition key", func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("ActiveIndex"),
				KeyConditionExpression: aws.String("boardShard = :b"), ExpressionAttributeValues: vals(":b", "2026-01-01#3")})
			return err
		}, []string{"2026-01-01#3"}},
		{"BatchWriteItem: each put's Item and delete's Key", func() error {
			_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{services.TableName: {
				{PutRequest: &types.PutRequest{Item: key("USER#bw1")}}, {DeleteRequest: &types.DeleteRequest{Key: key("GROUP#bw2")}},
			}}})
			return err
		}, []string{"USER#bw1", "GROUP#bw2"}},
		{"BatchGetItem: each key", func() error {
			_, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{services.TableName: {
				Keys: []map[string]types.AttributeValue{key("USER#bg1"), key("GROUP#bg2")},
			}}})
			return err
		}, []string{"USER#bg1", "GROUP#bg2"}},
		{"TransactWriteItems: put, update, delete and condition check", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: tbl, Item: key("USER#tw1")}},
				{Update: &types.Update{TableName: tbl, Key: key("USER#tw2"), UpdateExpression: aws.String("SET a = :a"), ExpressionAttributeValues: vals(":a", "x")}},
				{Delete: &types.Delete{TableName: tbl, Key: key("GROUP#tw3")}},
				{ConditionCheck: &types.ConditionCheck{TableName: tbl, Key: key("USER#tw4"), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			}})
			return err
		}, []string{"USER#tw1", "USER#tw2", "GROUP#tw3", "USER#tw4"}},
		{"TransactGetItems: each get", func() error {
			_, err := db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
				{Get: &types.Get{TableName: tbl, Key: key("USER#tg1")}},
			}})
			return err
		}, []string{"USER#tg1"}},
		{"Scan: none", func() error {
			_, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(1)})
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An error is dynalite's (some lack transactions); the request
			// passed the proxy either way.
			_ = tt.do()
			log := p.Log()
			if len(log) == 0 {
				t.Fatal("nothing logged")
			}
			if got := log[len(log)-1]; !slices.Equal(got.Keys, tt.want) || got.Outcome != "skipped" {
				t.Errorf("logged keys %q (%s), want %q", got.Keys, got.Outcome, tt.want)
			}
		})
	}
}
