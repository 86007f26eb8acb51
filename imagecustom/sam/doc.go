// Package sam reads and edits the local accounts of a Windows SAM hive
// offline, on hive bytes alone (package
// [github.com/imagecustom/go-imagecustom/hive]): list the accounts with
// their flags, logon times and local groups; set a password (a new NT
// hash and no LM hash), blank it, enable, disable and unlock an account.
//
// # Format
//
// Each account is SAM\Domains\Account\Users\<RID>, whose F value holds
// fixed fields (times, RID, the USER_ACCOUNT flags, bad password and
// logon counts) and whose V value holds 17 offset/size descriptors and
// the data they point to (names, comments, the LM and NT hash entries…).
// Hashes are encrypted twice: with DES under two keys derived from the
// RID ([MS-SAMR] 2.2.11.1), then under the SAM's password encryption key
// (the "hashed boot key"), which SAM\Domains\Account\F stores encrypted
// under the boot key (syskey). The boot key is the class names of the
// SYSTEM hive's Control\Lsa\{JD,Skew1,GBG,Data} keys, hex-decoded and
// permuted. Two revisions exist ([Revision]): [RC4], MD5-derived RC4 keys
// (Windows NT 4.0 SP3 to Windows 10 1511), and [AES], AES-128-CBC with a
// salt per key and per hash (Windows 10 1607 and later).
//
// The facts come from Impacket's secretsdump.py (SAMHashes), mimikatz's
// kuhl_m_lsadump, libyal's winreg-kb ("Security Accounts Manager keys")
// and fox-it's dissect.target sam plugin, read for the layout; the code
// is this package's own. Tests check every write with tools we did not
// write: Impacket's secretsdump decrypts the hashes of both revisions,
// chntpw and samdump2 read names, flags and hashes. What rests on a
// Windows fact no tool here can check is listed in the package README.
//
// Every record is hostile input: sizes and offsets are checked before
// use, errors are [*CorruptError] naming the key, value and offset, and
// each parser has a fuzz target.
package sam
