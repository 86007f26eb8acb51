/* nt.h: the few NT native API types and ntdll.dll functions the hook uses,
 * declared here from their documented signatures (ReactOS NDK and Wine
 * headers were read for the facts; nothing is copied). */
#ifndef BOOTHOOK_NT_H
#define BOOTHOOK_NT_H

#include <stddef.h>
#include <stdint.h>

#define NTAPI __stdcall
typedef int32_t NTSTATUS;
typedef uint16_t WCHAR;
typedef void *HANDLE;
typedef uint32_t ULONG;
typedef uint32_t ACCESS_MASK;
typedef uint8_t BOOLEAN;
typedef uintptr_t ULONG_PTR;

#define NT_SUCCESS(s) ((NTSTATUS)(s) >= 0)
#define STATUS_SUCCESS              ((NTSTATUS)0x00000000)
#define STATUS_TIMEOUT              ((NTSTATUS)0x00000102)
#define STATUS_NO_MORE_ENTRIES      ((NTSTATUS)0x8000001A)
#define STATUS_END_OF_FILE          ((NTSTATUS)0xC0000011)
#define STATUS_INVALID_PARAMETER    ((NTSTATUS)0xC000000D)
#define STATUS_OBJECT_NAME_INVALID  ((NTSTATUS)0xC0000033)
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034)
#define STATUS_OBJECT_PATH_NOT_FOUND ((NTSTATUS)0xC000003A)
#define STATUS_DATA_ERROR           ((NTSTATUS)0xC000003E)
#define STATUS_BUFFER_TOO_SMALL     ((NTSTATUS)0xC0000023)
#define STATUS_NAME_TOO_LONG        ((NTSTATUS)0xC0000106)
#define STATUS_FILE_TOO_LARGE       ((NTSTATUS)0xC0000904)

typedef struct {
	uint16_t Length;        /* bytes, without a terminator */
	uint16_t MaximumLength; /* bytes */
	WCHAR *Buffer;
} UNICODE_STRING;

typedef struct {
	ULONG Length;
	HANDLE RootDirectory;
	UNICODE_STRING *ObjectName;
	ULONG Attributes;
	void *SecurityDescriptor;
	void *SecurityQualityOfService;
} OBJECT_ATTRIBUTES;

#define OBJ_CASE_INSENSITIVE 0x40

typedef struct {
	union {
		NTSTATUS Status;
		void *Pointer;
	} u;
	ULONG_PTR Information;
} IO_STATUS_BLOCK;

typedef union {
	struct {
		uint32_t LowPart;
		int32_t HighPart;
	} s;
	int64_t QuadPart;
} LARGE_INTEGER;

typedef struct {
	HANDLE UniqueProcess;
	HANDLE UniqueThread;
} CLIENT_ID;

typedef struct {
	UNICODE_STRING DosPath;
	HANDLE Handle;
} CURDIR;

/* RTL_USER_PROCESS_PARAMETERS, up to the fields the hook reads. */
typedef struct {
	ULONG MaximumLength;
	ULONG Length;
	ULONG Flags;
	ULONG DebugFlags;
	HANDLE ConsoleHandle;
	ULONG ConsoleFlags;
	HANDLE StandardInput;
	HANDLE StandardOutput;
	HANDLE StandardError;
	CURDIR CurrentDirectory;
	UNICODE_STRING DllPath;
	UNICODE_STRING ImagePathName;
	UNICODE_STRING CommandLine;
	void *Environment;
} RTL_USER_PROCESS_PARAMETERS;

/* The start of the PEB. */
typedef struct {
	BOOLEAN InheritedAddressSpace;
	BOOLEAN ReadImageFileExecOptions;
	BOOLEAN BeingDebugged;
	BOOLEAN BitField;
	HANDLE Mutant;
	void *ImageBaseAddress;
	void *Ldr;
	RTL_USER_PROCESS_PARAMETERS *ProcessParameters;
} PEB;

typedef struct {
	ULONG Size;
	HANDLE ProcessHandle;
	HANDLE ThreadHandle;
	CLIENT_ID ClientId;
	uint8_t ImageInformation[128]; /* SECTION_IMAGE_INFORMATION, unused; room to spare */
} RTL_USER_PROCESS_INFORMATION;

typedef struct {
	NTSTATUS ExitStatus;
	void *PebBaseAddress;
	ULONG_PTR AffinityMask;
	int32_t BasePriority;
	ULONG_PTR UniqueProcessId;
	ULONG_PTR InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION;

typedef struct {
	BOOLEAN ReplaceIfExists;
	HANDLE RootDirectory;
	ULONG FileNameLength;
	WCHAR FileName[1];
} FILE_RENAME_INFORMATION;

typedef struct {
	BOOLEAN DeleteFile;
} FILE_DISPOSITION_INFORMATION;

typedef struct {
	ULONG TitleIndex;
	ULONG Type;
	ULONG DataLength;
	uint8_t Data[1];
} KEY_VALUE_PARTIAL_INFORMATION;

typedef struct {
	LARGE_INTEGER LastWriteTime;
	ULONG TitleIndex;
	ULONG NameLength;
	WCHAR Name[1];
} KEY_BASIC_INFORMATION;

/* Access rights, dispositions, options, classes. */
#define DELETE                  0x00010000
#define SYNCHRONIZE             0x00100000
#define GENERIC_READ            0x80000000
#define GENERIC_WRITE           0x40000000
#define FILE_READ_ATTRIBUTES    0x0080
#define FILE_LIST_DIRECTORY     0x0001
#define FILE_SHARE_READ         1
#define FILE_SHARE_WRITE        2
#define FILE_SHARE_DELETE       4
#define FILE_ATTRIBUTE_NORMAL   0x80
#define FILE_OPEN               1
#define FILE_OPEN_IF            3
#define FILE_OVERWRITE_IF       5
#define FILE_DIRECTORY_FILE     0x00000001
#define FILE_SYNCHRONOUS_IO_NONALERT 0x00000020
#define FILE_NON_DIRECTORY_FILE 0x00000040
#define FILE_OPEN_FOR_BACKUP_INTENT 0x00004000
#define FileRenameInformation      10
#define FileDispositionInformation 13
#define KEY_QUERY_VALUE         0x0001
#define KEY_SET_VALUE           0x0002
#define KEY_CREATE_SUB_KEY      0x0004
#define KEY_ENUMERATE_SUB_KEYS  0x0008
#define KEY_ALL_ACCESS          0x000F003F
#define KeyBasicInformation        0
#define KeyValuePartialInformation 2
#define ProcessBasicInformation    0
#define SYMBOLIC_LINK_QUERY     0x0001
#define SE_SHUTDOWN_PRIVILEGE   19
#define ShutdownReboot          1
#define REG_MULTI_SZ            7
#define NtCurrentProcess()      ((HANDLE)(intptr_t)-1)

NTSTATUS NTAPI NtClose(HANDLE);
NTSTATUS NTAPI NtCreateFile(HANDLE *, ACCESS_MASK, OBJECT_ATTRIBUTES *, IO_STATUS_BLOCK *,
	LARGE_INTEGER *, ULONG, ULONG, ULONG, ULONG, void *, ULONG);
NTSTATUS NTAPI NtReadFile(HANDLE, HANDLE, void *, void *, IO_STATUS_BLOCK *, void *, ULONG,
	LARGE_INTEGER *, ULONG *);
NTSTATUS NTAPI NtWriteFile(HANDLE, HANDLE, void *, void *, IO_STATUS_BLOCK *, const void *, ULONG,
	LARGE_INTEGER *, ULONG *);
NTSTATUS NTAPI NtSetInformationFile(HANDLE, IO_STATUS_BLOCK *, void *, ULONG, ULONG);
NTSTATUS NTAPI NtCreateKey(HANDLE *, ACCESS_MASK, OBJECT_ATTRIBUTES *, ULONG, UNICODE_STRING *,
	ULONG, ULONG *);
NTSTATUS NTAPI NtOpenKey(HANDLE *, ACCESS_MASK, OBJECT_ATTRIBUTES *);
NTSTATUS NTAPI NtSetValueKey(HANDLE, UNICODE_STRING *, ULONG, ULONG, const void *, ULONG);
NTSTATUS NTAPI NtQueryValueKey(HANDLE, UNICODE_STRING *, ULONG, void *, ULONG, ULONG *);
NTSTATUS NTAPI NtDeleteValueKey(HANDLE, UNICODE_STRING *);
NTSTATUS NTAPI NtDeleteKey(HANDLE);
NTSTATUS NTAPI NtEnumerateKey(HANDLE, ULONG, ULONG, void *, ULONG, ULONG *);
NTSTATUS NTAPI NtDisplayString(UNICODE_STRING *);
NTSTATUS NTAPI NtTerminateProcess(HANDLE, NTSTATUS);
NTSTATUS NTAPI NtShutdownSystem(ULONG);
NTSTATUS NTAPI NtOpenSymbolicLinkObject(HANDLE *, ACCESS_MASK, OBJECT_ATTRIBUTES *);
NTSTATUS NTAPI NtQuerySymbolicLinkObject(HANDLE, UNICODE_STRING *, ULONG *);
NTSTATUS NTAPI NtResumeThread(HANDLE, ULONG *);
NTSTATUS NTAPI NtWaitForSingleObject(HANDLE, BOOLEAN, LARGE_INTEGER *);
NTSTATUS NTAPI NtQueryInformationProcess(HANDLE, ULONG, void *, ULONG, ULONG *);
NTSTATUS NTAPI RtlAdjustPrivilege(ULONG, BOOLEAN, BOOLEAN, BOOLEAN *);
NTSTATUS NTAPI RtlCreateProcessParameters(RTL_USER_PROCESS_PARAMETERS **, UNICODE_STRING *,
	UNICODE_STRING *, UNICODE_STRING *, UNICODE_STRING *, void *, UNICODE_STRING *,
	UNICODE_STRING *, UNICODE_STRING *, UNICODE_STRING *);
NTSTATUS NTAPI RtlDestroyProcessParameters(RTL_USER_PROCESS_PARAMETERS *);
RTL_USER_PROCESS_PARAMETERS *NTAPI RtlNormalizeProcessParams(RTL_USER_PROCESS_PARAMETERS *);
NTSTATUS NTAPI RtlCreateUserProcess(UNICODE_STRING *, ULONG, RTL_USER_PROCESS_PARAMETERS *,
	void *, void *, HANDLE, BOOLEAN, HANDLE, HANDLE, RTL_USER_PROCESS_INFORMATION *);

#endif
