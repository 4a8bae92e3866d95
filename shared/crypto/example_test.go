package crypto_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

// WeChat's own sample: the session key from code2Session opens what the
// mini program got from an open-data API.
func ExampleDecrypt() {
	raw, _ := os.ReadFile("testdata/official_sample.json")
	var sample struct{ SessionKey, EncryptedData, IV string }
	_ = json.Unmarshal(raw, &sample)

	plain, err := crypto.Decrypt(sample.SessionKey, sample.EncryptedData, sample.IV)
	if err != nil {
		fmt.Println(err)
		return
	}
	var data struct {
		NickName  string           `json:"nickName"`
		Watermark crypto.Watermark `json:"watermark"`
	}
	_ = json.Unmarshal(plain, &data)
	fmt.Println(data.NickName, data.Watermark.AppID)

	// Another key fails the one way every wrong key does.
	_, err = crypto.Decrypt("AAAAAAAAAAAAAAAAAAAAAA==", sample.EncryptedData, sample.IV)
	fmt.Println(errors.Is(err, crypto.ErrDecrypt))
	// Output:
	// Band wx4f4bc4dec97d474b
	// true
}

// A session token names a user until it expires; verifying it reads no
// table. Keys rotate as "new,old": tokens of the old key stay valid.
func ExampleSigner() {
	keys, _ := crypto.ParseSigningKeys("0123456789abcdef0123456789abcdef")
	signer, _ := crypto.NewSigner(keys...)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

	token := signer.Sign("o-alice", now.Add(24*time.Hour))
	openid, err := signer.Verify(token, now)
	fmt.Println(openid, err)
	_, err = signer.Verify(token, now.Add(25*time.Hour))
	fmt.Println(errors.Is(err, crypto.ErrTokenExpired))
	// Output:
	// o-alice <nil>
	// true
}
