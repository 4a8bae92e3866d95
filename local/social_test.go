package main

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// exclude does what the README's operator command does: it keeps
// memberID off every board.
func exclude(t *testing.T, memberID string) {
	t.Helper()
	db := dynamodb.NewFromConfig(localDynamoConfig(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")))
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(os.Getenv("TABLE_NAME")),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "EXCLUDED"},
			"SK": &types.AttributeValueMemberS{Value: "MEMBER#" + memberID},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}
