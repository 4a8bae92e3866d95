// Temporary scaffold: replaced by the real handler.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 501, Body: `{"error":{"code":"NOT_IMPLEMENTED","message":"not yet"}}`}, nil
	})
}
