// Package crypto owns the cryptography of werun-sam: decrypting WeChat open
// data (AES-128-CBC with strict PKCS#7, as in WeChat's "开放数据校验与解密"),
// checking the plaintext's watermark, and signing and verifying the
// project's own session tokens (HMAC-SHA256 with key rotation).
//
// It knows nothing of HTTP, DynamoDB or WeChat endpoints. Its errors are
// sentinels for errors.Is and never carry a key, a token or a session key:
// callers map ErrBase64, ErrKeySize, ErrIVSize and ErrCiphertextSize to
// "malformed request" and ErrDecrypt, ErrWrongApp and ErrStale to
// "well-formed but unusable".
package crypto
