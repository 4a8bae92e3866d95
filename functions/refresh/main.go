// Command refresh is the scheduled Lambda function: it keeps the shared
// WeChat access token ahead of expiry and builds the day's leaderboard.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
)

func main() {
	h, err := app.Handler(context.Background(), "RefreshFunction")
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(h)
}
