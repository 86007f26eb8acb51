/* hook.c: the imagecustom boot hook, an NT native-subsystem program.
 *
 * smss runs it before the Win32 subsystem starts, as autochk.exe (autochk
 * method) or from its own BootExecute line (bootexecute method). It reads
 * System32\vmprep.dat, performs its actions in order, logs each with its
 * NTSTATUS to <Windows>\imagecustom\boot.log, always undoes its own
 * installation, and reboots if asked. See ../doc.go for the whole story.
 *
 * Freestanding: ntdll.dll imports only, no C runtime, every buffer static
 * and every loop and wait bounded. */
#include "nt.h"
#include "decode.h"

#define PATH_MAX_UNITS  8192u
#define RUN_TIMEOUT_S   600     /* a run action waits this long unless the data file says */
#define CHAIN_TIMEOUT_S 3600    /* the original autochk, at most this long */
#define MAX_KEY_DEPTH   32
#define SELF_DELETED    L"imagecustom-hook.del"
#define DATA_NAME       L"vmprep.dat"
#define DEFAULT_BACKUP  L"vmprep.cfg"
#define MANIFEST_NAME   L"imagecustom\\hook.json"

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

/* ---- wide strings: counted, bounded, in static buffers ---- */

typedef struct {
	WCHAR b[PATH_MAX_UNITS];
	uint32_t n;
} wstr;

static void ws_set(wstr *w, const WCHAR *s, uint32_t n)
{
	if (n > PATH_MAX_UNITS)
		n = PATH_MAX_UNITS;
	for (uint32_t i = 0; i < n; i++)
		w->b[i] = s[i];
	w->n = n;
}

static int ws_add(wstr *w, const WCHAR *s, uint32_t n)
{
	if (n > PATH_MAX_UNITS - w->n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		w->b[w->n + i] = s[i];
	w->n += n;
	return 1;
}

static uint32_t wz(const WCHAR *s)
{
	uint32_t n = 0;
	while (s[n] && n < PATH_MAX_UNITS)
		n++;
	return n;
}

static int ws_addz(wstr *w, const WCHAR *s) { return ws_add(w, s, wz(s)); }

/* ws_addf appends a field's UTF-16LE bytes (unaligned in the file). */
static int ws_addf(wstr *w, const struct bh_field *f)
{
	uint32_t n = f->len / 2;
	if (n > PATH_MAX_UNITS - w->n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		w->b[w->n + i] = bh_rd16(f->p + 2 * i);
	w->n += n;
	return 1;
}

static WCHAR up(WCHAR c) { return (c >= 'a' && c <= 'z') ? (WCHAR)(c - 32) : c; }

static int eq_ci(const WCHAR *a, uint32_t an, const WCHAR *b, uint32_t bn)
{
	if (an != bn)
		return 0;
	for (uint32_t i = 0; i < an; i++)
		if (up(a[i]) != up(b[i]))
			return 0;
	return 1;
}

static int prefix_ci(const WCHAR *s, uint32_t n, const WCHAR *p)
{
	uint32_t pn = wz(p);
	return n >= pn && eq_ci(s, pn, p, pn);
}

/* dirname: cut at the last backslash (0 if there is none past index 0). */
static int ws_dirname(wstr *w)
{
	for (uint32_t i = w->n; i-- > 1;) {
		if (w->b[i] == '\\') {
			w->n = i;
			return 1;
		}
	}
	return 0;
}

static void us_init(UNICODE_STRING *u, wstr *w)
{
	u->Buffer = w->b;
	u->Length = (uint16_t)(w->n * 2);
	u->MaximumLength = (uint16_t)(w->n * 2);
}

static NTSTATUS us_from(UNICODE_STRING *u, wstr *w)
{
	if (w->n > 32767)
		return STATUS_NAME_TOO_LONG;
	us_init(u, w);
	return STATUS_SUCCESS;
}

static void oa_init(OBJECT_ATTRIBUTES *oa, HANDLE root, UNICODE_STRING *name)
{
	oa->Length = sizeof *oa;
	oa->RootDirectory = root;
	oa->ObjectName = name;
	oa->Attributes = OBJ_CASE_INSENSITIVE;
	oa->SecurityDescriptor = 0;
	oa->SecurityQualityOfService = 0;
}

/* ---- UTF-16 to UTF-8 ---- */

/* utf8 writes at most cap bytes of the UTF-8 form of s[0:n] into d and
 * returns the count (a character that does not fit whole is dropped). */
static uint32_t utf8(uint8_t *d, uint32_t cap, const WCHAR *s, uint32_t n)
{
	uint32_t o = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = s[i];
		if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000) {
			c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
			i++;
		} else if (c >= 0xD800 && c < 0xE000) {
			c = 0xFFFD;
		}
		if (c < 0x80) {
			if (o + 1 > cap) break;
			d[o++] = (uint8_t)c;
		} else if (c < 0x800) {
			if (o + 2 > cap) break;
			d[o++] = (uint8_t)(0xC0 | (c >> 6));
			d[o++] = (uint8_t)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			if (o + 3 > cap) break;
			d[o++] = (uint8_t)(0xE0 | (c >> 12));
			d[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
			d[o++] = (uint8_t)(0x80 | (c & 0x3F));
		} else {
			if (o + 4 > cap) break;
			d[o++] = (uint8_t)(0xF0 | (c >> 18));
			d[o++] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
			d[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
			d[o++] = (uint8_t)(0x80 | (c & 0x3F));
		}
	}
	return o;
}

/* ---- state ---- */

static wstr g_image;    /* own image, NT path */
static wstr g_sys32;    /* System32, NT path */
static wstr g_windir;   /* the Windows folder, NT path */
static wstr g_volume;   /* the volume's root, NT path without the trailing backslash */
static WCHAR g_base[260];
static uint32_t g_basen;
static UNICODE_STRING g_cmdline;
static uint32_t g_run_timeout = RUN_TIMEOUT_S;

static uint8_t g_dat[BH_MAX_FILE + 1];
static struct bh_action g_act;
static uint8_t g_io[65536];
static uint8_t g_val[BH_MAX_FILE + 16] __attribute__((aligned(8)));
static uint8_t g_kvi[131072] __attribute__((aligned(8)));
static uint8_t g_ren[sizeof(FILE_RENAME_INFORMATION) + 2 * PATH_MAX_UNITS] __attribute__((aligned(8)));
static wstr g_p1, g_p2, g_tmp, g_name;

/* ---- the log ---- */

static HANDLE g_log;
static uint8_t g_line[8192];
static uint32_t g_lpos;

static void lput(const char *s)
{
	while (*s && g_lpos < sizeof g_line - 2)
		g_line[g_lpos++] = (uint8_t)*s++;
}

static void lhex(uint32_t v)
{
	char b[11];
	b[0] = '0';
	b[1] = 'x';
	for (int i = 0; i < 8; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
	b[10] = 0;
	lput(b);
}

static void ldec(uint32_t v)
{
	char b[11];
	int i = 10;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	lput(b + i);
}

static void lw(const WCHAR *s, uint32_t n)
{
	uint32_t room = sizeof g_line - 2 - g_lpos;
	if (n > 1024)
		n = 1024;
	g_lpos += utf8(g_line + g_lpos, room, s, n);
}

static void lend(void)
{
	IO_STATUS_BLOCK io;
	LARGE_INTEGER end;
	g_line[g_lpos++] = '\r';
	g_line[g_lpos++] = '\n';
	end.QuadPart = -1; /* FILE_WRITE_TO_END_OF_FILE */
	if (g_log)
		NtWriteFile(g_log, 0, 0, 0, &io, g_line, g_lpos, &end, 0);
	g_lpos = 0;
}

/* ---- files ---- */

static NTSTATUS open_file(HANDLE *h, wstr *path, ACCESS_MASK access, ULONG share, ULONG disp, ULONG opts)
{
	UNICODE_STRING u;
	OBJECT_ATTRIBUTES oa;
	IO_STATUS_BLOCK io;
	NTSTATUS st = us_from(&u, path);
	if (!NT_SUCCESS(st))
		return st;
	oa_init(&oa, 0, &u);
	*h = 0;
	return NtCreateFile(h, access | SYNCHRONIZE, &oa, &io, 0, FILE_ATTRIBUTE_NORMAL, share, disp,
		opts | FILE_SYNCHRONOUS_IO_NONALERT, 0, 0);
}

static NTSTATUS write_all(HANDLE h, const uint8_t *p, uint32_t n)
{
	IO_STATUS_BLOCK io;
	while (n > 0) {
		NTSTATUS st = NtWriteFile(h, 0, 0, 0, &io, p, n, 0, 0);
		if (!NT_SUCCESS(st))
			return st;
		if (io.Information == 0 || io.Information > n)
			return STATUS_DATA_ERROR;
		p += io.Information;
		n -= (uint32_t)io.Information;
	}
	return STATUS_SUCCESS;
}

static void log_open(void)
{
	HANDLE d;
	ws_set(&g_tmp, g_windir.b, g_windir.n);
	ws_addz(&g_tmp, L"\\imagecustom");
	if (NT_SUCCESS(open_file(&d, &g_tmp, FILE_LIST_DIRECTORY, FILE_SHARE_READ | FILE_SHARE_WRITE,
			FILE_OPEN_IF, FILE_DIRECTORY_FILE)))
		NtClose(d);
	ws_addz(&g_tmp, L"\\boot.log");
	if (!NT_SUCCESS(open_file(&g_log, &g_tmp, GENERIC_WRITE, FILE_SHARE_READ, FILE_OPEN_IF,
			FILE_NON_DIRECTORY_FILE)))
		g_log = 0;
}

/* read_data reads System32\vmprep.dat into g_dat; *n is its size. */
static NTSTATUS read_data(uint32_t *n)
{
	HANDLE h;
	NTSTATUS st;
	*n = 0;
	ws_set(&g_tmp, g_sys32.b, g_sys32.n);
	ws_addz(&g_tmp, L"\\" DATA_NAME);
	st = open_file(&h, &g_tmp, GENERIC_READ, FILE_SHARE_READ, FILE_OPEN, FILE_NON_DIRECTORY_FILE);
	if (!NT_SUCCESS(st))
		return st;
	for (int i = 0; i < 64 && *n < sizeof g_dat; i++) {
		IO_STATUS_BLOCK io;
		st = NtReadFile(h, 0, 0, 0, &io, g_dat + *n, (ULONG)(sizeof g_dat - *n), 0, 0);
		if (st == STATUS_END_OF_FILE || (NT_SUCCESS(st) && io.Information == 0)) {
			st = STATUS_SUCCESS;
			break;
		}
		if (!NT_SUCCESS(st))
			break;
		*n += (uint32_t)io.Information;
	}
	NtClose(h);
	if (NT_SUCCESS(st) && *n > BH_MAX_FILE)
		st = STATUS_FILE_TOO_LARGE;
	return st;
}

/* vpath sets w to the NT path of the volume path in field f. */
static int vpath(wstr *w, const struct bh_field *f)
{
	ws_set(w, g_volume.b, g_volume.n);
	return ws_addf(w, f);
}

static NTSTATUS do_copy(const struct bh_field *src, const struct bh_field *dst)
{
	HANDLE in, out;
	NTSTATUS st;
	if (!vpath(&g_p1, src) || !vpath(&g_p2, dst))
		return STATUS_NAME_TOO_LONG;
	st = open_file(&in, &g_p1, GENERIC_READ, FILE_SHARE_READ, FILE_OPEN, FILE_NON_DIRECTORY_FILE);
	if (!NT_SUCCESS(st))
		return st;
	st = open_file(&out, &g_p2, GENERIC_WRITE, 0, FILE_OVERWRITE_IF, FILE_NON_DIRECTORY_FILE);
	if (NT_SUCCESS(st)) {
		/* At most 65536 reads of 64 KiB: 4 GiB. */
		for (uint32_t i = 0; i < 65536; i++) {
			IO_STATUS_BLOCK io;
			st = NtReadFile(in, 0, 0, 0, &io, g_io, sizeof g_io, 0, 0);
			if (st == STATUS_END_OF_FILE || (NT_SUCCESS(st) && io.Information == 0)) {
				st = STATUS_SUCCESS;
				break;
			}
			if (!NT_SUCCESS(st))
				break;
			st = write_all(out, g_io, (uint32_t)io.Information);
			if (!NT_SUCCESS(st))
				break;
			if (i == 65535)
				st = STATUS_FILE_TOO_LARGE;
		}
		NtClose(out);
	}
	NtClose(in);
	return st;
}

/* rename_path renames from to to (both NT paths). */
static NTSTATUS rename_path(wstr *from, wstr *to, BOOLEAN replace)
{
	HANDLE h;
	IO_STATUS_BLOCK io;
	FILE_RENAME_INFORMATION *ri = (FILE_RENAME_INFORMATION *)g_ren;
	NTSTATUS st = open_file(&h, from, DELETE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
		FILE_OPEN, 0);
	if (!NT_SUCCESS(st))
		return st;
	ri->ReplaceIfExists = replace;
	ri->RootDirectory = 0;
	ri->FileNameLength = to->n * 2;
	for (uint32_t i = 0; i < to->n; i++)
		ri->FileName[i] = to->b[i];
	st = NtSetInformationFile(h, &io, ri, (ULONG)(offsetof(FILE_RENAME_INFORMATION, FileName) + to->n * 2),
		FileRenameInformation);
	NtClose(h);
	return st;
}

static NTSTATUS do_delete(wstr *path)
{
	HANDLE h;
	IO_STATUS_BLOCK io;
	FILE_DISPOSITION_INFORMATION di;
	NTSTATUS st = open_file(&h, path, DELETE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
		FILE_OPEN, 0);
	if (!NT_SUCCESS(st))
		return st;
	di.DeleteFile = 1;
	st = NtSetInformationFile(h, &io, &di, sizeof di, FileDispositionInformation);
	NtClose(h);
	return st;
}

static NTSTATUS do_write(const struct bh_action *a)
{
	HANDLE h;
	NTSTATUS st;
	if (!vpath(&g_p1, &a->f[0]))
		return STATUS_NAME_TOO_LONG;
	st = open_file(&h, &g_p1, GENERIC_WRITE, 0, FILE_OVERWRITE_IF, FILE_NON_DIRECTORY_FILE);
	if (!NT_SUCCESS(st))
		return st;
	for (uint32_t i = 1; i < a->nfields && NT_SUCCESS(st); i++) {
		uint32_t n;
		ws_set(&g_tmp, 0, 0);
		ws_addf(&g_tmp, &a->f[i]);
		n = utf8(g_io, sizeof g_io - 2, g_tmp.b, g_tmp.n);
		g_io[n++] = '\r';
		g_io[n++] = '\n';
		st = write_all(h, g_io, n);
	}
	NtClose(h);
	return st;
}

/* run starts image (NT path) with command line cmd and waits at most
 * timeout seconds, then, with end set, ends it; *exit gets its exit
 * status. */
static NTSTATUS run(wstr *image, UNICODE_STRING *cmd, uint32_t timeout, int end, NTSTATUS *exit)
{
	UNICODE_STRING img;
	RTL_USER_PROCESS_PARAMETERS *pp = 0;
	static RTL_USER_PROCESS_INFORMATION info;
	PROCESS_BASIC_INFORMATION pbi;
	LARGE_INTEGER t;
	NTSTATUS st;
	*exit = 0;
	st = us_from(&img, image);
	if (!NT_SUCCESS(st))
		return st;
	st = RtlCreateProcessParameters(&pp, &img, 0, 0, cmd, 0, 0, 0, 0, 0);
	if (!NT_SUCCESS(st))
		return st;
	memset(&info, 0, sizeof info);
	info.Size = sizeof info;
	st = RtlCreateUserProcess(&img, OBJ_CASE_INSENSITIVE, pp, 0, 0, 0, 0, 0, 0, &info);
	RtlDestroyProcessParameters(pp);
	if (!NT_SUCCESS(st))
		return st;
	NtResumeThread(info.ThreadHandle, 0);
	t.QuadPart = -(int64_t)timeout * 10000000;
	st = NtWaitForSingleObject(info.ProcessHandle, 0, &t);
	if (st == STATUS_TIMEOUT && end) {
		LARGE_INTEGER grace;
		grace.QuadPart = -5LL * 10000000;
		NtTerminateProcess(info.ProcessHandle, STATUS_TIMEOUT);
		NtWaitForSingleObject(info.ProcessHandle, 0, &grace);
	}
	if (st == STATUS_SUCCESS &&
	    NT_SUCCESS(NtQueryInformationProcess(info.ProcessHandle, ProcessBasicInformation, &pbi, sizeof pbi, 0)))
		*exit = pbi.ExitStatus;
	NtClose(info.ThreadHandle);
	NtClose(info.ProcessHandle);
	return st;
}

/* cmd_add appends one command-line argument, quoted if it holds a space
 * or is empty. */
static void cmd_add(wstr *c, const WCHAR *s, uint32_t n)
{
	int q = n == 0;
	for (uint32_t i = 0; i < n; i++)
		if (s[i] == ' ')
			q = 1;
	if (c->n)
		ws_addz(c, L" ");
	if (q)
		ws_addz(c, L"\"");
	ws_add(c, s, n);
	if (q)
		ws_addz(c, L"\"");
}

static NTSTATUS do_run(const struct bh_action *a, NTSTATUS *exit)
{
	UNICODE_STRING cmd;
	NTSTATUS st;
	if (!vpath(&g_p1, &a->f[0]))
		return STATUS_NAME_TOO_LONG;
	ws_set(&g_p2, 0, 0);
	cmd_add(&g_p2, g_p1.b, g_p1.n);
	for (uint32_t i = 1; i < a->nfields; i++) {
		ws_set(&g_tmp, 0, 0);
		ws_addf(&g_tmp, &a->f[i]);
		cmd_add(&g_p2, g_tmp.b, g_tmp.n);
	}
	st = us_from(&cmd, &g_p2);
	if (!NT_SUCCESS(st))
		return st;
	return run(&g_p1, &cmd, g_run_timeout, 1, exit);
}

static NTSTATUS say(const WCHAR *s, uint32_t n)
{
	UNICODE_STRING u;
	ws_set(&g_tmp, s, n);
	ws_addz(&g_tmp, L"\n");
	us_init(&u, &g_tmp);
	return NtDisplayString(&u);
}

/* ---- registry ---- */

/* open_key opens (or creates) \Registry\Machine\System\<key>, one component
 * at a time so that missing parents are created. */
static NTSTATUS open_key(const WCHAR *key, uint32_t n, int create, ACCESS_MASK access, HANDLE *out)
{
	UNICODE_STRING u;
	OBJECT_ATTRIBUTES oa;
	HANDLE h, next;
	NTSTATUS st;
	uint32_t start = 0;
	ws_set(&g_name, 0, 0);
	ws_addz(&g_name, L"\\Registry\\Machine\\System");
	us_init(&u, &g_name);
	oa_init(&oa, 0, &u);
	st = NtOpenKey(&h, KEY_CREATE_SUB_KEY | KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE, &oa);
	if (!NT_SUCCESS(st))
		return st;
	for (uint32_t i = 0; i <= n; i++) {
		if (i < n && key[i] != '\\')
			continue;
		if (i - start > 255) {
			NtClose(h);
			return STATUS_NAME_TOO_LONG;
		}
		ws_set(&g_name, key + start, i - start);
		us_init(&u, &g_name);
		oa_init(&oa, h, &u);
		ACCESS_MASK acc = i == n ? access : (KEY_CREATE_SUB_KEY | KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE);
		if (create)
			st = NtCreateKey(&next, acc, &oa, 0, 0, 0, 0);
		else
			st = NtOpenKey(&next, acc, &oa);
		NtClose(h);
		if (!NT_SUCCESS(st))
			return st;
		h = next;
		start = i + 1;
	}
	*out = h;
	return STATUS_SUCCESS;
}

static NTSTATUS do_reg_set(const struct bh_action *a)
{
	HANDLE h;
	UNICODE_STRING name;
	uint32_t len = 0;
	NTSTATUS st;
	ws_set(&g_p1, 0, 0);
	ws_addf(&g_p1, &a->f[0]);
	ws_set(&g_p2, 0, 0);
	ws_addf(&g_p2, &a->f[1]);
	/* The value's bytes as the registry stores them. */
	for (uint32_t i = 2; i < a->nfields; i++) {
		const struct bh_field *f = &a->f[i];
		for (uint32_t k = 0; k < f->len && len < sizeof g_val - 4; k++)
			g_val[len++] = f->p[k];
		if (a->type == BH_REG_SZ || a->type == BH_REG_EXPAND_SZ || a->type == BH_REG_MULTI_SZ) {
			g_val[len++] = 0;
			g_val[len++] = 0;
		}
	}
	if (a->type == BH_REG_MULTI_SZ) {
		g_val[len++] = 0;
		g_val[len++] = 0;
	}
	st = open_key(g_p1.b, g_p1.n, 1, KEY_SET_VALUE, &h);
	if (!NT_SUCCESS(st))
		return st;
	us_init(&name, &g_p2);
	st = NtSetValueKey(h, &name, 0, a->type, g_val, len);
	NtClose(h);
	return st;
}

/* delete_tree deletes the open key h with all its subkeys. */
static NTSTATUS delete_tree(HANDLE h, int depth)
{
	struct {
		KEY_BASIC_INFORMATION k;
		WCHAR more[260];
	} bi;
	NTSTATUS st;
	if (depth > MAX_KEY_DEPTH)
		return STATUS_NAME_TOO_LONG;
	for (int i = 0; i < 65536; i++) {
		ULONG got;
		UNICODE_STRING u;
		OBJECT_ATTRIBUTES oa;
		HANDLE c;
		wstr *nm = &g_name;
		st = NtEnumerateKey(h, 0, KeyBasicInformation, &bi, sizeof bi, &got);
		if (st == STATUS_NO_MORE_ENTRIES)
			break;
		if (!NT_SUCCESS(st))
			return st;
		ws_set(nm, bi.k.Name, bi.k.NameLength / 2);
		us_init(&u, nm);
		oa_init(&oa, h, &u);
		st = NtOpenKey(&c, KEY_ALL_ACCESS | DELETE, &oa);
		if (!NT_SUCCESS(st))
			return st;
		st = delete_tree(c, depth + 1);
		NtClose(c);
		if (!NT_SUCCESS(st))
			return st;
	}
	return NtDeleteKey(h);
}

static NTSTATUS do_reg_delete(const struct bh_action *a)
{
	HANDLE h;
	NTSTATUS st;
	ws_set(&g_p1, 0, 0);
	ws_addf(&g_p1, &a->f[0]);
	if (a->nfields == 2) {
		UNICODE_STRING name;
		st = open_key(g_p1.b, g_p1.n, 0, KEY_SET_VALUE, &h);
		if (!NT_SUCCESS(st))
			return st;
		ws_set(&g_p2, 0, 0);
		ws_addf(&g_p2, &a->f[1]);
		us_init(&name, &g_p2);
		st = NtDeleteValueKey(h, &name);
	} else {
		st = open_key(g_p1.b, g_p1.n, 0, KEY_ALL_ACCESS | DELETE, &h);
		if (!NT_SUCCESS(st))
			return st;
		st = delete_tree(h, 0);
	}
	NtClose(h);
	return st;
}

/* query_value reads a value of an open key into g_kvi. */
static NTSTATUS query_value(HANDLE h, const WCHAR *name, KEY_VALUE_PARTIAL_INFORMATION **out)
{
	UNICODE_STRING u;
	ULONG got;
	ws_set(&g_name, name, wz(name));
	us_init(&u, &g_name);
	*out = (KEY_VALUE_PARTIAL_INFORMATION *)g_kvi;
	return NtQueryValueKey(h, &u, KeyValuePartialInformation, g_kvi, sizeof g_kvi - 8, &got);
}

/* pending_delete appends "path\0\0" (delete path) to Session Manager's
 * PendingFileRenameOperations, which smss processes after BootExecute. */
static NTSTATUS pending_delete(wstr *path)
{
	static const WCHAR sm[] = L"CurrentControlSet\\Control\\Session Manager";
	static const WCHAR vn[] = L"PendingFileRenameOperations";
	KEY_VALUE_PARTIAL_INFORMATION *kv;
	UNICODE_STRING name;
	HANDLE h;
	uint32_t n = 0, end = 0, pos = 0;
	WCHAR *w = (WCHAR *)g_val;
	NTSTATUS st = open_key(sm, wz(sm), 0, KEY_QUERY_VALUE | KEY_SET_VALUE, &h);
	if (!NT_SUCCESS(st))
		return st;
	st = query_value(h, vn, &kv);
	if (NT_SUCCESS(st)) {
		if (kv->Type != REG_MULTI_SZ || kv->DataLength > sizeof g_val - 2 * PATH_MAX_UNITS - 16) {
			NtClose(h);
			return STATUS_DATA_ERROR;
		}
		n = kv->DataLength / 2;
		for (uint32_t i = 0; i < n; i++)
			w[i] = (WCHAR)(kv->Data[2 * i] | (kv->Data[2 * i + 1] << 8));
		/* Walk (source, destination) pairs up to the empty terminator. */
		while (pos < n) {
			uint32_t s = pos;
			while (pos < n && w[pos])
				pos++;
			if (pos == s)
				break; /* the terminator */
			pos++;
			while (pos < n && w[pos])
				pos++;
			if (pos < n)
				pos++;
			end = pos;
		}
	} else if (st != STATUS_OBJECT_NAME_NOT_FOUND) {
		NtClose(h);
		return st;
	}
	for (uint32_t i = 0; i < path->n; i++)
		w[end++] = path->b[i];
	w[end++] = 0;
	w[end++] = 0; /* empty destination: delete */
	w[end++] = 0; /* end of list */
	ws_set(&g_name, vn, wz(vn));
	us_init(&name, &g_name);
	st = NtSetValueKey(h, &name, 0, REG_MULTI_SZ, w, end * 2);
	NtClose(h);
	return st;
}

/* names_self reports whether a BootExecute line runs this program. */
static int names_self(const WCHAR *l, uint32_t n)
{
	uint32_t i = 0;
	while (i < n) {
		uint32_t s, e, b;
		while (i < n && l[i] == ' ')
			i++;
		s = i;
		while (i < n && l[i] != ' ')
			i++;
		e = i;
		if (e == s)
			break;
		if (eq_ci(l + s, e - s, L"autocheck", 9) || eq_ci(l + s, e - s, L"async", 5) ||
		    eq_ci(l + s, e - s, L"debug", 5))
			continue;
		b = s;
		for (uint32_t k = s; k < e; k++)
			if (l[k] == '\\')
				b = k + 1;
		if (eq_ci(l + b, e - b, g_base, g_basen))
			return 1;
		if (g_basen > 4 && eq_ci(l + b, e - b, g_base, g_basen - 4) &&
		    eq_ci(g_base + g_basen - 4, 4, L".exe", 4))
			return 1;
		return 0; /* the first word past the keywords is the image */
	}
	return 0;
}

/* unbootexecute removes every BootExecute line naming this program from
 * each ControlSetNNN; *removed counts them. */
static NTSTATUS unbootexecute(uint32_t *removed)
{
	struct {
		KEY_BASIC_INFORMATION k;
		WCHAR more[260];
	} bi;
	UNICODE_STRING u;
	OBJECT_ATTRIBUTES oa;
	HANDLE sys;
	NTSTATUS st, last = STATUS_SUCCESS;
	*removed = 0;
	ws_set(&g_tmp, 0, 0);
	ws_addz(&g_tmp, L"\\Registry\\Machine\\System");
	us_init(&u, &g_tmp);
	oa_init(&oa, 0, &u);
	st = NtOpenKey(&sys, KEY_ENUMERATE_SUB_KEYS, &oa);
	if (!NT_SUCCESS(st))
		return st;
	for (ULONG idx = 0; idx < 1024; idx++) {
		ULONG got;
		HANDLE h;
		KEY_VALUE_PARTIAL_INFORMATION *kv;
		WCHAR *w = (WCHAR *)g_val;
		uint32_t n, o = 0, i = 0;
		int changed = 0;
		st = NtEnumerateKey(sys, idx, KeyBasicInformation, &bi, sizeof bi, &got);
		if (st == STATUS_NO_MORE_ENTRIES)
			break;
		if (!NT_SUCCESS(st)) {
			last = st;
			break;
		}
		n = bi.k.NameLength / 2;
		if (!prefix_ci(bi.k.Name, n, L"ControlSet") || n > 200)
			continue;
		ws_set(&g_p1, bi.k.Name, n);
		ws_addz(&g_p1, L"\\Control\\Session Manager");
		if (!NT_SUCCESS(open_key(g_p1.b, g_p1.n, 0, KEY_QUERY_VALUE | KEY_SET_VALUE, &h)))
			continue;
		st = query_value(h, L"BootExecute", &kv);
		if (NT_SUCCESS(st) && kv->Type == REG_MULTI_SZ && kv->DataLength <= sizeof g_val) {
			/* Copy the lines that do not name us, in place into g_val. */
			uint32_t un = kv->DataLength / 2;
			while (i < un) {
				uint32_t s = i;
				WCHAR c0 = (WCHAR)(kv->Data[2 * i] | (kv->Data[2 * i + 1] << 8));
				if (c0 == 0)
					break;
				while (i < un && (kv->Data[2 * i] | kv->Data[2 * i + 1]))
					i++;
				int self = 0;
				if (i - s <= PATH_MAX_UNITS) { /* ours is short; a longer line is not */
					for (uint32_t k = s; k < i; k++)
						g_p2.b[k - s] = (WCHAR)(kv->Data[2 * k] | (kv->Data[2 * k + 1] << 8));
					self = names_self(g_p2.b, i - s);
				}
				if (self) {
					changed = 1;
					(*removed)++;
				} else {
					for (uint32_t k = s; k < i; k++)
						w[o++] = (WCHAR)(kv->Data[2 * k] | (kv->Data[2 * k + 1] << 8));
					w[o++] = 0;
				}
				i++;
			}
			w[o++] = 0;
			if (changed) {
				ws_set(&g_name, L"BootExecute", 11);
				us_init(&u, &g_name);
				st = NtSetValueKey(h, &u, 0, REG_MULTI_SZ, w, o * 2);
				if (!NT_SUCCESS(st))
					last = st;
			}
		}
		NtClose(h);
	}
	NtClose(sys);
	return last;
}

/* ---- finding ourselves ---- */

static PEB *current_peb(void)
{
	PEB *p;
#if defined(__x86_64__)
	__asm__("movq %%gs:0x60, %0" : "=r"(p));
#else
	__asm__("movl %%fs:0x30, %0" : "=r"(p));
#endif
	return p;
}

/* locate derives the NT paths of the image, System32, the Windows folder
 * and the volume from ImagePathName: \SystemRoot\System32\x.exe (smss),
 * \??\D:\...\x.exe or D:\...\x.exe (Wine), or another NT path. */
static int locate(RTL_USER_PROCESS_PARAMETERS *pp)
{
	const WCHAR *s = pp->ImagePathName.Buffer;
	uint32_t n = pp->ImagePathName.Length / 2, b;
	if (!s || n < 4 || n > 4096)
		return 0;
	ws_set(&g_image, 0, 0);
	if (s[1] == ':' && s[2] == '\\')
		ws_addz(&g_image, L"\\??\\");
	else if (s[0] != '\\')
		return 0;
	ws_add(&g_image, s, n);
	b = g_image.n;
	while (b > 0 && g_image.b[b - 1] != '\\')
		b--;
	g_basen = g_image.n - b;
	if (g_basen == 0 || g_basen >= 260)
		return 0;
	for (uint32_t i = 0; i < g_basen; i++)
		g_base[i] = g_image.b[b + i];
	ws_set(&g_sys32, g_image.b, g_image.n);
	if (!ws_dirname(&g_sys32))
		return 0;
	ws_set(&g_windir, g_sys32.b, g_sys32.n);
	if (!ws_dirname(&g_windir))
		return 0;
	if (eq_ci(g_windir.b, g_windir.n, L"\\SystemRoot", 11)) {
		/* \SystemRoot links to \Device\HarddiskVolumeN\Windows. */
		UNICODE_STRING u, t;
		OBJECT_ATTRIBUTES oa;
		HANDLE h;
		ULONG got = 0;
		NTSTATUS st;
		ws_set(&g_tmp, g_windir.b, g_windir.n);
		us_init(&u, &g_tmp);
		oa_init(&oa, 0, &u);
		if (!NT_SUCCESS(NtOpenSymbolicLinkObject(&h, SYMBOLIC_LINK_QUERY, &oa)))
			return 0;
		t.Buffer = g_volume.b;
		t.Length = 0;
		t.MaximumLength = 2 * 4096;
		st = NtQuerySymbolicLinkObject(h, &t, &got);
		NtClose(h);
		if (!NT_SUCCESS(st))
			return 0;
		g_volume.n = t.Length / 2;
	} else {
		ws_set(&g_volume, g_windir.b, g_windir.n);
	}
	return ws_dirname(&g_volume);
}

/* ---- the program ---- */

static const char *op_name(uint8_t op)
{
	static const char *names[] = {"?", "reg-set", "reg-delete", "copy", "rename", "delete",
		"write", "run", "say", "reboot"};
	return op <= BH_REBOOT ? names[op] : "?";
}

static void log_status(const char *what, NTSTATUS st)
{
	lput(what);
	lput(" ");
	lhex((uint32_t)st);
}

/* perform runs one action and logs it; it returns 1 for reboot. */
static int perform(uint32_t index, const struct bh_action *a)
{
	NTSTATUS st = STATUS_SUCCESS, exit = 0;
	switch (a->op) {
	case BH_REG_SET: st = do_reg_set(a); break;
	case BH_REG_DELETE: st = do_reg_delete(a); break;
	case BH_COPY: st = do_copy(&a->f[0], &a->f[1]); break;
	case BH_RENAME:
		if (!vpath(&g_p1, &a->f[0]) || !vpath(&g_p2, &a->f[1]))
			st = STATUS_NAME_TOO_LONG;
		else
			st = rename_path(&g_p1, &g_p2, 1);
		break;
	case BH_DELETE:
		st = vpath(&g_p1, &a->f[0]) ? do_delete(&g_p1) : STATUS_NAME_TOO_LONG;
		break;
	case BH_WRITE: st = do_write(a); break;
	case BH_RUN: st = do_run(a, &exit); break;
	case BH_SAY:
		ws_set(&g_p1, 0, 0);
		ws_addf(&g_p1, &a->f[0]);
		st = say(g_p1.b, g_p1.n);
		break;
	}
	lput("action ");
	ldec(index);
	lput(" ");
	log_status(op_name(a->op), st);
	if (a->op == BH_RUN) {
		lput(" exit=");
		lhex((uint32_t)exit);
	}
	if (a->nfields > 0) {
		lput(" ");
		ws_set(&g_p1, 0, 0);
		ws_addf(&g_p1, &a->f[0]);
		lw(g_p1.b, g_p1.n);
	}
	lend();
	return a->op == BH_REBOOT;
}

/* forget deletes the data file and the installer's record
 * (<Windows>\imagecustom\hook.json, package imagecustom's), once the hook
 * is out of the boot path: the image then shows no hook installed. */
static int missing(NTSTATUS st)
{
	return st == STATUS_OBJECT_NAME_NOT_FOUND || st == STATUS_OBJECT_PATH_NOT_FOUND;
}

static NTSTATUS forget(void)
{
	NTSTATUS st, first = STATUS_SUCCESS;
	ws_set(&g_p1, g_sys32.b, g_sys32.n);
	ws_addz(&g_p1, L"\\" DATA_NAME);
	st = do_delete(&g_p1);
	if (!NT_SUCCESS(st) && !missing(st))
		first = st;
	ws_set(&g_p1, g_windir.b, g_windir.n);
	ws_addz(&g_p1, L"\\" MANIFEST_NAME);
	st = do_delete(&g_p1);
	if (!NT_SUCCESS(st) && !missing(st) && NT_SUCCESS(first))
		first = st;
	return first;
}

/* undo takes the hook out of the boot path; it returns the exit status of
 * the original autochk when it ran it. */
static NTSTATUS undo(const uint8_t *backup, uint32_t backup_units)
{
	NTSTATUS st, exit = 0;
	int restored = 0;
	if (eq_ci(g_base, g_basen, L"autochk.exe", 11)) {
		HANDLE h;
		/* The original must be there before we give up our name. */
		ws_set(&g_p2, g_sys32.b, g_sys32.n);
		ws_addz(&g_p2, L"\\");
		if (backup) {
			struct bh_field f = {backup, backup_units * 2};
			ws_addf(&g_p2, &f);
		} else {
			ws_addz(&g_p2, DEFAULT_BACKUP);
		}
		st = open_file(&h, &g_p2, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
			FILE_OPEN, FILE_NON_DIRECTORY_FILE);
		if (!NT_SUCCESS(st)) {
			log_status("undo restore", st);
			lend();
			return 0;
		}
		NtClose(h);
		ws_set(&g_p1, g_sys32.b, g_sys32.n);
		ws_addz(&g_p1, L"\\" SELF_DELETED);
		st = rename_path(&g_image, &g_p1, 1);
		log_status("undo rename-self", st);
		lend();
		if (!NT_SUCCESS(st))
			return 0;
		st = rename_path(&g_p2, &g_image, 0);
		log_status("undo restore", st);
		lend();
		restored = NT_SUCCESS(st);
		if (restored) {
			st = run(&g_image, &g_cmdline, CHAIN_TIMEOUT_S, 0, &exit);
			log_status("undo chain", st);
			lput(" exit=");
			lhex((uint32_t)exit);
			lend();
		}
		st = pending_delete(&g_p1);
		log_status("undo pending-delete", st);
		lend();
	} else {
		uint32_t removed;
		st = unbootexecute(&removed);
		restored = NT_SUCCESS(st);
		log_status("undo bootexecute", st);
		lput(" removed=");
		ldec(removed);
		lend();
		st = pending_delete(&g_image);
		log_status("undo pending-delete", st);
		lend();
	}
	if (restored) {
		st = forget();
		log_status("undo forget", st);
		lend();
	}
	return exit;
}

void NTAPI NtProcessStartup(void *arg)
{
	RTL_USER_PROCESS_PARAMETERS *pp;
	uint32_t n = 0, bad = 0, count = 0, off;
	const uint8_t *backup = 0;
	uint32_t backup_units = 0;
	int reboot = 0;
	NTSTATUS st, exit;
	(void)arg;
	pp = RtlNormalizeProcessParams(current_peb()->ProcessParameters);
	if (!pp || !locate(pp))
		NtTerminateProcess(NtCurrentProcess(), STATUS_OBJECT_NAME_INVALID);
	g_cmdline = pp->CommandLine;
	log_open();
	st = read_data(&n);
	lput("boothook 1 start image=");
	lw(g_image.b, g_image.n);
	if (!NT_SUCCESS(st)) {
		lput(" data=");
		lhex((uint32_t)st);
	} else if ((bad = bh_check(g_dat, n)) != 0) {
		lput(" data=malformed at=");
		ldec(bad - 1);
	} else {
		count = bh_rd32(g_dat + 16);
		backup_units = bh_rd16(g_dat + 20) / 2;
		backup = g_dat + BH_HEADER;
		if (bh_rd16(g_dat + 22) != 0)
			g_run_timeout = bh_rd16(g_dat + 22);
		lput(" actions=");
		ldec(count);
	}
	lend();
	off = BH_HEADER + backup_units * 2;
	for (uint32_t i = 0; i < count; i++) {
		bh_next(g_dat, &off, &g_act);
		reboot |= perform(i + 1, &g_act);
	}
	exit = undo(backup, backup_units);
	lput("boothook end");
	lend();
	if (g_log)
		NtClose(g_log);
	if (reboot) {
		BOOLEAN was;
		RtlAdjustPrivilege(SE_SHUTDOWN_PRIVILEGE, 1, 0, &was);
		NtShutdownSystem(ShutdownReboot);
	}
	NtTerminateProcess(NtCurrentProcess(), exit);
}
