package sam

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
)

// Revision is the revision of a SAM's password encryption key, which
// decides how every account's hashes are encrypted.
type Revision int

const (
	// RC4 is the key of Windows NT 4.0 SP3 (syskey) to Windows 10 1511:
	// the hashed boot key is RC4-encrypted under an MD5 of the boot key,
	// and each hash RC4-encrypted under an MD5 of it and the RID.
	RC4 Revision = 1
	// AES is the key of Windows 10 1607 and later: AES-128-CBC for both
	// the hashed boot key and each hash.
	AES Revision = 2
)

// String returns "rc4" or "aes".
func (r Revision) String() string {
	switch r {
	case RC4:
		return "rc4"
	case AES:
		return "aes"
	}
	return fmt.Sprintf("revision(%d)", int(r))
}

// The strings samsrv.dll mixes into its MD5s (Impacket's secretsdump,
// SAMHashes.getHBootKey and dump; mimikatz's kuhl_m_lsadump.c). The
// trailing NUL is part of each.
var (
	qwerty     = []byte("!@#$%^&*()qwertyUIOPAzxcvbnmQQQQQQQQQQQQ)(*@&%\x00")
	digits     = []byte("0123456789012345678901234567890123456789\x00")
	ntPassword = []byte("NTPASSWORD\x00") // LM hashes use "LMPASSWORD\x00"; none is written or read here
)

// bootKeyKeys are the subkeys of Control\Lsa whose class names, eight hex
// digits each, make the scrambled boot key; bootKeyOrder unscrambles it:
// bootKey[i] = scrambled[bootKeyOrder[i]].
var (
	bootKeyKeys  = [4]string{"JD", "Skew1", "GBG", "Data"}
	bootKeyOrder = [16]int{8, 5, 4, 2, 11, 9, 13, 3, 0, 6, 1, 12, 14, 10, 15, 7}
)

// BootKey returns the boot key (syskey) of a SYSTEM hive: the class
// names of Control\Lsa\{JD,Skew1,GBG,Data} in the control set
// Select\Current names, hex-decoded and permuted.
func BootKey(system *hive.Hive) ([16]byte, error) {
	var key [16]byte
	if system == nil {
		return key, fmt.Errorf("%w: no SYSTEM hive", ErrKey)
	}
	cs, err := system.CurrentControlSet()
	if err != nil {
		return key, fmt.Errorf("%w: %w", ErrKey, err)
	}
	var hexKey strings.Builder
	for _, name := range bootKeyKeys {
		path := cs + `\Control\Lsa\` + name
		k, err := system.Key(path)
		if err != nil {
			return key, fmt.Errorf("%w: SYSTEM\\%s: %w", ErrKey, path, err)
		}
		class, err := k.Class()
		if err != nil {
			return key, fmt.Errorf("%w: class name of SYSTEM\\%s: %w", ErrKey, path, err)
		}
		if len(class) < 8 {
			return key, fmt.Errorf("%w: class name of SYSTEM\\%s is %q, not eight hex digits", ErrKey, path, class)
		}
		hexKey.WriteString(class[:8])
	}
	var scrambled [16]byte
	if _, err := hex.Decode(scrambled[:], []byte(hexKey.String())); err != nil {
		return key, fmt.Errorf("%w: the Lsa class names %q are not hex digits", ErrKey, hexKey.String())
	}
	for i, j := range bootKeyOrder {
		key[i] = scrambled[j]
	}
	return key, nil
}

// setBootKey writes key as the class names of Control\Lsa\{JD,Skew1,GBG,
// Data} in every ControlSetNNN of the SYSTEM hive, creating the keys
// where missing.
func setBootKey(system *hive.Hive, key [16]byte) error {
	var scrambled [16]byte
	for i, j := range bootKeyOrder {
		scrambled[j] = key[i]
	}
	text := hex.EncodeToString(scrambled[:])
	subs, err := system.Root().Subkeys()
	if err != nil {
		return err
	}
	n := 0
	for _, cs := range subs {
		name := cs.Name()
		if len(name) != 13 || !strings.EqualFold(name[:10], "ControlSet") || strings.Trim(name[10:], "0123456789") != "" {
			continue
		}
		for i, sub := range bootKeyKeys {
			k, err := system.CreateKey(name + `\Control\Lsa\` + sub)
			if err != nil {
				return err
			}
			if err := k.SetClass(text[8*i : 8*i+8]); err != nil {
				return err
			}
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%w: the SYSTEM hive has no ControlSetNNN key", ErrNotFound)
	}
	return nil
}

// passwordKey is a SAM's decrypted password encryption key (the "hashed
// boot key") and its revision.
type passwordKey struct {
	rev Revision
	key [16]byte
}

const accountKey = `SAM\Domains\Account`

// decryptKey decrypts the password encryption key in the domain F record
// f with the boot key.
func decryptKey(f []byte, boot [16]byte) (passwordKey, error) {
	rev, err := keyRevision(f)
	if err != nil {
		return passwordKey{}, err
	}
	kd := f[dfKey:]
	switch rev {
	case RC4:
		if len(kd) < kdChecksum+16 {
			return passwordKey{}, &CorruptError{Key: accountKey, Value: "F", Offset: dfKey, What: fmt.Sprintf("RC4 key data of %d bytes, under %d", len(kd), kdChecksum+16)}
		}
		plain := make([]byte, 32)
		rc4With(md5Of(kd[kdSalt:kdSalt+16], qwerty, boot[:], digits), plain, kd[kdKey:kdChecksum+16])
		sum := md5Of(plain[:16], digits, plain[:16], qwerty)
		if !bytes.Equal(sum[:], plain[16:]) {
			return passwordKey{}, fmt.Errorf("%w: the boot key does not decrypt the SAM's key (checksum mismatch): SAM and SYSTEM of different machines, a syskey startup password, or a SAM without a key", ErrKey)
		}
		pk := passwordKey{rev: RC4}
		copy(pk.key[:], plain)
		return pk, nil
	case AES:
		if len(kd) < kaData {
			return passwordKey{}, &CorruptError{Key: accountKey, Value: "F", Offset: dfKey, What: fmt.Sprintf("AES key data of %d bytes, under %d", len(kd), kaData)}
		}
		dataLen := binary.LittleEndian.Uint32(kd[kaDataLen:])
		checkLen := binary.LittleEndian.Uint32(kd[kaCheckLen:])
		if uint64(dataLen)+uint64(checkLen) > uint64(len(kd)-kaData) {
			return passwordKey{}, &CorruptError{Key: accountKey, Value: "F", Offset: dfKey + kaDataLen,
				What: fmt.Sprintf("AES key of %d bytes and check of %d run past the %d bytes there", dataLen, checkLen, len(kd)-kaData)}
		}
		iv := kd[kaSalt : kaSalt+16]
		plain, ok := aesDecrypt(boot[:], iv, kd[kaData:kaData+int(dataLen)])
		if !ok || len(plain) != 16 {
			return passwordKey{}, fmt.Errorf("%w: the boot key does not decrypt the SAM's AES key (bad padding): SAM and SYSTEM of different machines, or a SAM without a key", ErrKey)
		}
		if checkLen > 0 {
			check, ok := aesDecrypt(boot[:], iv, kd[kaData+int(dataLen):kaData+int(dataLen)+int(checkLen)])
			sum := sha256.Sum256(plain)
			if !ok || len(check) < 32 || !bytes.Equal(check[:32], sum[:]) {
				return passwordKey{}, fmt.Errorf("%w: the boot key does not decrypt the SAM's AES key (check mismatch): SAM and SYSTEM of different machines", ErrKey)
			}
		}
		pk := passwordKey{rev: AES}
		copy(pk.key[:], plain)
		return pk, nil
	}
	return passwordKey{}, fmt.Errorf("%w: key revision %d", ErrUnsupported, rev)
}

// keyRevision returns the revision of the key data in the domain F record.
func keyRevision(f []byte) (Revision, error) {
	if len(f) < dfKey+8 {
		return 0, &CorruptError{Key: accountKey, Value: "F", Offset: -1, What: fmt.Sprintf("%d bytes, under the %d of its fixed fields and key header", len(f), dfKey+8)}
	}
	switch r := binary.LittleEndian.Uint32(f[dfKey+kdRevision:]); r {
	case 1:
		return RC4, nil
	case 2:
		return AES, nil
	default:
		return 0, fmt.Errorf("%w: SAM key data revision %d (known: 1 RC4, 2 AES)", ErrUnsupported, r)
	}
}

// encryptKey returns a domain F record: f with a password encryption key
// pk encrypted under the boot key, salted from salt (16 bytes).
func encryptKey(f []byte, pk passwordKey, boot [16]byte, salt []byte) []byte {
	var kd []byte
	switch pk.rev {
	case RC4:
		kd = make([]byte, kdSize)
		binary.LittleEndian.PutUint32(kd[kdRevision:], 1)
		binary.LittleEndian.PutUint32(kd[kdLength:], kdSize-8)
		copy(kd[kdSalt:], salt)
		sum := md5Of(pk.key[:], digits, pk.key[:], qwerty)
		plain := append(append([]byte(nil), pk.key[:]...), sum[:]...)
		rc4With(md5Of(salt, qwerty, boot[:], digits), kd[kdKey:kdChecksum+16], plain)
	case AES:
		data := aesEncrypt(boot[:], salt, pk.key[:])
		sum := sha256.Sum256(pk.key[:])
		check := aesEncrypt(boot[:], salt, sum[:])
		kd = make([]byte, kaData, kaData+len(data)+len(check))
		binary.LittleEndian.PutUint32(kd[kdRevision:], 2)
		binary.LittleEndian.PutUint32(kd[kdLength:], uint32(kaData-8+len(data)+len(check)))
		binary.LittleEndian.PutUint32(kd[kaCheckLen:], uint32(len(check)))
		binary.LittleEndian.PutUint32(kd[kaDataLen:], uint32(len(data)))
		copy(kd[kaSalt:], salt)
		kd = append(append(kd, data...), check...)
	}
	out := make([]byte, max(len(f), dfKey+len(kd)))
	copy(out, f)
	clear(out[dfKey:])
	copy(out[dfKey:], kd)
	rev := uint16(2)
	if pk.rev == AES {
		rev = 3
	}
	binary.LittleEndian.PutUint16(out[dfRevision:], rev)
	return out
}

// Hash entries in V: a 4-byte header (PekID, revision), then for revision
// 1 the RC4-encrypted 16 bytes, for revision 2 a data length, a 16-byte
// salt and the AES-CBC-encrypted, padded 16 bytes.
const (
	heRC4 = 1
	heAES = 2

	heAESSalt = 8
	heAESData = 24
)

// hashEntry decodes one LM or NT hash entry of user rid: ok is false when
// the entry holds no hash (a header alone: no password, or no LM hash).
func decryptHash(pk passwordKey, rid uint32, entry, constant []byte) (hash [16]byte, ok bool, err error) {
	if len(entry) < 4 {
		return hash, false, nil
	}
	var obf []byte
	switch binary.LittleEndian.Uint16(entry[2:]) {
	case heRC4:
		if len(entry) < 20 {
			return hash, false, nil
		}
		if pk.rev != RC4 {
			return hash, false, fmt.Errorf("%w: an RC4 hash under an AES key", ErrUnsupported)
		}
		obf = make([]byte, 16)
		rc4With(md5Of(pk.key[:], le32(rid), constant), obf, entry[4:20])
	case heAES:
		if len(entry) < heAESData || binary.LittleEndian.Uint32(entry[4:]) == 0 || len(entry) == heAESData {
			return hash, false, nil
		}
		if pk.rev != AES {
			return hash, false, fmt.Errorf("%w: an AES hash under an RC4 key", ErrUnsupported)
		}
		data := entry[heAESData:]
		if len(data)%16 != 0 {
			return hash, false, fmt.Errorf("%w: AES hash data of %d bytes, not whole blocks", ErrCorrupt, len(data))
		}
		plain := make([]byte, len(data))
		cipher.NewCBCDecrypter(mustAES(pk.key[:]), entry[heAESSalt:heAESData]).CryptBlocks(plain, data)
		if len(plain) < 16 {
			return hash, false, fmt.Errorf("%w: AES hash data of %d bytes", ErrCorrupt, len(data))
		}
		obf = plain[:16]
	default:
		return hash, false, fmt.Errorf("%w: hash entry revision %d", ErrUnsupported, binary.LittleEndian.Uint16(entry[2:]))
	}
	k1, k2 := ridKeys(rid)
	k1.Decrypt(hash[:8], obf[:8])
	k2.Decrypt(hash[8:], obf[8:])
	return hash, true, nil
}

// encryptHash returns the V entry holding hash for user rid, with the
// PekID pek, salted from salt (16 bytes) under an AES key.
func encryptHash(pk passwordKey, rid uint32, hash [16]byte, constant []byte, pek uint16, salt []byte) []byte {
	var obf [16]byte
	k1, k2 := ridKeys(rid)
	k1.Encrypt(obf[:8], hash[:8])
	k2.Encrypt(obf[8:], hash[8:])
	if pk.rev == RC4 {
		e := make([]byte, 20)
		binary.LittleEndian.PutUint16(e, pek)
		binary.LittleEndian.PutUint16(e[2:], heRC4)
		rc4With(md5Of(pk.key[:], le32(rid), constant), e[4:], obf[:])
		return e
	}
	data := aesEncrypt(pk.key[:], salt, obf[:])
	e := make([]byte, heAESData, heAESData+len(data))
	binary.LittleEndian.PutUint16(e, pek)
	binary.LittleEndian.PutUint16(e[2:], heAES)
	binary.LittleEndian.PutUint32(e[4:], 0x10)
	copy(e[heAESSalt:], salt)
	return append(e, data...)
}

// emptyHash returns the V entry of no hash under a key of revision rev:
// the header alone, and for AES an empty salt.
func emptyHash(rev Revision, pek uint16) []byte {
	if rev == AES {
		e := make([]byte, heAESData)
		binary.LittleEndian.PutUint16(e, pek)
		binary.LittleEndian.PutUint16(e[2:], heAES)
		return e
	}
	e := make([]byte, 4)
	binary.LittleEndian.PutUint16(e, pek)
	binary.LittleEndian.PutUint16(e[2:], heRC4)
	return e
}

// ridKeys returns the two DES keys derived from a RID ([MS-SAMR]
// 2.2.11.1.3: bytes 0,1,2,3,0,1,2 and 3,0,1,2,3,0,1 of the little-endian
// RID, each spread to eight bytes as 2.2.11.1.2 says).
func ridKeys(rid uint32) (cipher.Block, cipher.Block) {
	r := le32(rid)
	k1 := desKey([7]byte{r[0], r[1], r[2], r[3], r[0], r[1], r[2]})
	k2 := desKey([7]byte{r[3], r[0], r[1], r[2], r[3], r[0], r[1]})
	b1, _ := des.NewCipher(k1[:])
	b2, _ := des.NewCipher(k2[:])
	return b1, b2
}

// desKey spreads 56 key bits over eight bytes, seven bits each in the
// high bits ([MS-SAMR] 2.2.11.1.2); DES ignores the low (parity) bit.
func desKey(in [7]byte) [8]byte {
	var bitsIn uint64
	for _, b := range in {
		bitsIn = bitsIn<<8 | uint64(b)
	}
	var out [8]byte
	for i := range out {
		out[i] = byte(bitsIn>>(49-7*uint(i))) << 1
	}
	return out
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func md5Of(parts ...[]byte) [16]byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	var s [16]byte
	h.Sum(s[:0])
	return s
}

func rc4With(key [16]byte, dst, src []byte) {
	c, _ := rc4.NewCipher(key[:])
	c.XORKeyStream(dst, src)
}

func mustAES(key []byte) cipher.Block {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // keys here are always 16 bytes
	}
	return b
}

// aesEncrypt is AES-128-CBC with PKCS #7 padding, as CryptEncrypt does it.
func aesEncrypt(key, iv, plain []byte) []byte {
	pad := 16 - len(plain)%16
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(mustAES(key), iv).CryptBlocks(buf, buf)
	return buf
}

// aesDecrypt undoes aesEncrypt; ok is false for data that is not whole
// blocks or whose padding is wrong.
func aesDecrypt(key, iv, data []byte) (plain []byte, ok bool) {
	if len(data) == 0 || len(data)%16 != 0 {
		return nil, false
	}
	buf := make([]byte, len(data))
	cipher.NewCBCDecrypter(mustAES(key), iv).CryptBlocks(buf, data)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > 16 {
		return nil, false
	}
	for _, c := range buf[len(buf)-pad:] {
		if int(c) != pad {
			return nil, false
		}
	}
	return buf[:len(buf)-pad], true
}
