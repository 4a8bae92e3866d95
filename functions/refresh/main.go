// Command refresh is the scheduled Lambda function: it keeps the shared
// WeChat access token ahead of expiry and builds the day's leaderboard.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/app"
	"github.com/werun-sam/werun-sam/shared/werun"
)

func main() {
	svc, err := app.Service(context.Background(), app.Needs{AppSecret: true})
	if err != nil {
		app.Fatal(err)
	}
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (werun.RefreshReport, error) {
		return svc.Refresh(ctx, true)
	})
}
