package peerbench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	mpcontext "github.com/silenceper/wechat/v2/miniprogram/context"
	"github.com/silenceper/wechat/v2/miniprogram/werun"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/steps"
)

const (
	appID      = "wx4f4bc4dec97d474b"
	sessionKey = "tiihtNczf5v6AKRyjwEUhQ=="
	iv         = "r7BXXKkLb8qrSNn05n0qiA=="
)

// payload is a 31-day WeRun plaintext with a watermark, as WeChat sends it.
func payload() []byte {
	end := time.Date(2019, 10, 22, 0, 0, 0, 0, steps.CST).Unix()
	var b strings.Builder
	b.WriteString(`{"stepInfoList":[`)
	for i := range 31 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"timestamp":%d,"step":%d}`, end-int64(30-i)*86400, (i*1733)%15000)
	}
	fmt.Fprintf(&b, `],"watermark":{"timestamp":%d,"appid":%q}}`, end+3600, appID)
	return []byte(b.String())
}

func BenchmarkDecryptAndParse(b *testing.B) {
	encrypted, err := crypto.Encrypt(sessionKey, iv, payload())
	if err != nil {
		b.Fatal(err)
	}

	b.Run("werun-sam", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pt, err := crypto.Decrypt(sessionKey, encrypted, iv)
			if err != nil {
				b.Fatal(err)
			}
			p, err := steps.ParsePayload(pt)
			if err != nil || len(p.StepInfoList) != 31 || p.Watermark.AppID != appID {
				b.Fatalf("parse: %v", err)
			}
		}
	})

	b.Run("silenceper", func(b *testing.B) {
		// GetWeRunData uses nothing of its context: an empty one works offline.
		w := werun.NewWeRun(&mpcontext.Context{})
		b.ReportAllocs()
		for b.Loop() {
			d, err := w.GetWeRunData(sessionKey, encrypted, iv)
			if err != nil || len(d.StepInfoList) != 31 {
				b.Fatalf("GetWeRunData: %v", err)
			}
		}
	})
}
