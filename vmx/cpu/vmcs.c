#include "vmx/cpu/vmcs.h"
#include "kernel/lib/fmt.h"
#include "kernel/log.h"
#include "kernel/percpu.h"
#include "vmx/cpu/vmx.h"
#include "vmx/cpu/vmx_ops.h"

/* This CPU's record: VMREAD/VMWRITE act on the current VMCS of the CPU that executes them. */
static struct vmcs_error_record *error_record(void)
{
    return &this_cpu()->vmx->vmcs_err;
}

uint64_t vmcs_access_failed(bool write, enum vmcs_field field, enum vmx_status st)
{
    struct vmcs_error_record *err = error_record();
    uint64_t number = 0;
    if (err->failed)
        return 0;
    if (st == VMX_FAIL_VALID)
        vmx_read(VMCS_VM_INSTRUCTION_ERROR, &number);
    *err = (struct vmcs_error_record){true, write, field, st, (uint32_t)number};
    return 0;
}

void vmcs_error_clear(void)
{
    error_record()->failed = false;
}

bool vmcs_error_take(char *buf, size_t size)
{
    struct vmcs_error_record *err = error_record();
    if (!err->failed)
        return false;
    const char *name = vmcs_field_name(err->field);
    const char *op = err->write ? "VMWRITE" : "VMREAD";
    if (err->status == VMX_FAIL_INVALID)
        fmt_snprintf(buf, size, "%s %s (0x%x): VMfailInvalid (no current VMCS)", op,
                     name ? name : "?", err->field);
    else
        fmt_snprintf(buf, size, "%s %s (0x%x): VM-instruction error %u (%s)", op, name ? name : "?",
                     err->field, err->error, vm_instruction_error_name(err->error));
    err->failed = false;
    return true;
}

#define FIELD_NAME_ENTRY(name, enc) {enc, #name},
static const struct {
    uint32_t encoding;
    const char *name;
} field_names[] = {VMCS_FIELDS_ALL(FIELD_NAME_ENTRY)};
#undef FIELD_NAME_ENTRY

const char *vmcs_field_name(uint32_t encoding)
{
    for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
        if (field_names[i].encoding == encoding)
            return field_names[i].name;
    return NULL;
}

const char *vm_instruction_error_name(uint32_t number)
{
    static const char *const names[] = {
        [1] = "VMCALL executed in VMX root operation",
        [2] = "VMCLEAR with invalid physical address",
        [3] = "VMCLEAR with VMXON pointer",
        [4] = "VMLAUNCH with non-clear VMCS",
        [5] = "VMRESUME with non-launched VMCS",
        [6] = "VMRESUME after VMXOFF",
        [7] = "VM entry with invalid control field(s)",
        [8] = "VM entry with invalid host-state field(s)",
        [9] = "VMPTRLD with invalid physical address",
        [10] = "VMPTRLD with VMXON pointer",
        [11] = "VMPTRLD with incorrect VMCS revision identifier",
        [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
        [13] = "VMWRITE to read-only VMCS component",
        [14] = "reserved (14)",
        [15] = "VMXON executed in VMX root operation",
        [16] = "VM entry with invalid executive-VMCS pointer",
        [17] = "VM entry with non-launched executive VMCS",
        [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
        [19] = "VMCALL with non-clear VMCS",
        [20] = "VMCALL with invalid VM-exit control fields",
        [21] = "reserved (21)",
        [22] = "VMCALL with incorrect MSEG revision identifier",
        [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
        [24] = "VMCALL with invalid SMM-monitor features",
        [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
        [26] = "VM entry with events blocked by MOV SS",
        [27] = "reserved (27)",
        [28] = "invalid operand to INVEPT/INVVPID",
    };
    if (number < sizeof(names) / sizeof(names[0]) && names[number])
        return names[number];
    return "unknown VM-instruction error";
}

void vmcs_describe_instruction_error(char *buf, size_t size)
{
    uint64_t number = 0;
    vmx_read(VMCS_VM_INSTRUCTION_ERROR, &number);
    fmt_snprintf(buf, size, "%llu (%s)", (unsigned long long)number,
                 vm_instruction_error_name((uint32_t)number));
}

void vmcs_dump(void)
{
    static const char *const kinds[] = {"control", "read-only", "guest", "host"};
    log_error("VMCS dump:");
    for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
        uint64_t v;
        uint32_t enc = field_names[i].encoding;
        if (vmx_read(enc, &v) != VMX_OK)
            continue; /* not supported by this CPU */
        log_error("  %-9s %-28s 0x%llx", kinds[VMCS_FIELD_TYPE(enc)], field_names[i].name,
                  (unsigned long long)v);
    }
}
