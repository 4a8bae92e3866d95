package stack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
)

// TestTheFunctionsReachDynamoDBThroughTheProxy: every function's
// AWS_ENDPOINT_URL_DYNAMODB is the stack's proxy, whose rules a test sets
// through Stack.Proxy, and Stack.DynamoDB reads the table past them.
func TestTheFunctionsReachDynamoDBThroughTheProxy(t *testing.T) {
	services.ForTests(t, services.Need{DynamoDB: true})
	if err := template.ChdirRoot(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Start(ctx, Options{Functions: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fns, err := st.Template.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		if got := FunctionVars(st.Template, fn, st.Over)["AWS_ENDPOINT_URL_DYNAMODB"]; got != st.Proxy.URL {
			t.Errorf("%s's DynamoDB endpoint %q, want the proxy's %s", fn.LogicalID, got, st.Proxy.URL)
		}
	}
	if st.DynamoDB == st.Proxy.URL || st.DynamoDB == "" {
		t.Fatalf("DynamoDB %q, want the endpoint behind the proxy %s", st.DynamoDB, st.Proxy.URL)
	}

	if _, err := st.Proxy.Add(ddbproxy.Rule{Op: "PutItem", KeyPrefix: "GROUP#", Action: ddbproxy.Fail}); err != nil {
		t.Fatal(err)
	}
	item := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "GROUP#" + RandomKey()[:8]}, "SK": &types.AttributeValueMemberS{Value: "META"}}
	db := dynamodb.NewFromConfig(services.ClientConfig(st.Over["AWS_ENDPOINT_URL_DYNAMODB"]), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Over["TABLE_NAME"]), Item: item})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalServerError" {
		t.Errorf("a put through the functions' endpoint: %v, want the rule's InternalServerError", err)
	}
	out, err := services.Client(st.DynamoDB).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Over["TABLE_NAME"]), Key: item})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item != nil {
		t.Error("the failed put is in the table")
	}
}
