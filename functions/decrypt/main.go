// Command decrypt is the Lambda function behind POST /v1/werun/decrypt.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/api"
	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	svc, err := app.Service(context.Background(), app.Needs{AppSecret: true, SessionTokens: true})
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(api.Decrypt(svc))
}
