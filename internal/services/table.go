package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/template"
)

// TableName is the table's name in the local stack and the tests.
const TableName = "werun-sam-local"

// TableInput builds CreateTable from the Properties of the template's
// `Table` resource. CloudFormation's property names are the API's member
// names, so the SDK input decodes straight from them; settings dynalite
// lacks (TTL, PITR, SSE) are left out, which changes no read or write.
func TableInput(t *template.Template, name string) (*dynamodb.CreateTableInput, error) {
	r, ok := t.Resources["Table"]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		return nil, errors.New("template.yaml has no AWS::DynamoDB::Table resource `Table`")
	}
	var props struct {
		AttributeDefinitions   []types.AttributeDefinition
		KeySchema              []types.KeySchemaElement
		GlobalSecondaryIndexes []types.GlobalSecondaryIndex
		LocalSecondaryIndexes  []types.LocalSecondaryIndex
		BillingMode            types.BillingMode
	}
	if err := json.Unmarshal(r.Properties, &props); err != nil {
		return nil, fmt.Errorf("template resource Table: %w", err)
	}
	if len(props.KeySchema) == 0 {
		return nil, errors.New("template resource Table has no KeySchema")
	}
	return &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		AttributeDefinitions:   props.AttributeDefinitions,
		KeySchema:              props.KeySchema,
		GlobalSecondaryIndexes: props.GlobalSecondaryIndexes,
		LocalSecondaryIndexes:  props.LocalSecondaryIndexes,
		BillingMode:            props.BillingMode,
	}, nil
}

// Client is a client for a local endpoint with dummy credentials.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(ClientConfig(endpoint))
}

// ClientConfig is the aws.Config of Client, for clients with more options.
func ClientConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// CreateTable creates the template's table at endpoint (if it is not there)
// and waits until it is ACTIVE.
func CreateTable(ctx context.Context, t *template.Template, endpoint, name string) error {
	in, err := TableInput(t, name)
	if err != nil {
		return err
	}
	db := Client(endpoint)
	if _, err := db.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50e6, 200e6
	})
	return w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30e9)
}

// TableAt says whether a DynamoDB at endpoint answers and holds the table,
// as a running `make local`'s does; it asks once, briefly.
func TableAt(ctx context.Context, endpoint, name string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	db := dynamodb.NewFromConfig(ClientConfig(endpoint), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	return err == nil
}
