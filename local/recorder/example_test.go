package recorder_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/recorder"
)

// A client whose transport is a Recorder, with AskCapacity among its
// options, records each request and the units its answer reports.
func Example() {
	// A stand-in DynamoDB that bills every write one unit.
	db := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprint(w, `{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1}}`)
	}))
	defer db.Close()

	rec := recorder.New(http.DefaultTransport)
	client := dynamodb.NewFromConfig(services.ClientConfig(db.URL), func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: rec}
	}, rec.AskCapacity)
	_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("t"),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "USER#1"},
			"SK": &types.AttributeValueMemberS{Value: "DAY#2026-03-01"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range rec.Calls() {
		fmt.Println(c.Op, c.Key["SK"])
	}
	fmt.Printf("%+v\n", rec.Reported())
	// Output:
	// PutItem map[S:DAY#2026-03-01]
	// {Read:0 Write:1 IndexWrite:0}
}
