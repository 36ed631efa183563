; The real-mode guest of kvm_bench (tests/bench/kvm/kvm_bench.c): the same exiting
; instructions as guests/bench/bench.c, timed the same way (RDTSC before, the case's setup,
; the operation, RDTSC after; every sample of the operation followed by its twin with a NOP
; instead), SAMPLES times each. The deltas go to guest memory (ES:DI: operation at
; OP_ARRAY, twin at NOP_ARRAY); an OUT to PORT_DONE with the case number in AL hands them to
; the program, which takes the medians like tools/bench. An OUT to PORT_FINISHED ends.
; Loaded at 0000:1000 (GUEST_ENTRY in kvm_bench.c), ES = DATA_SEG.
bits 16
org 0x1000

%define SAMPLES        1001          ; as guests/bench/bench.c: odd, the median is one sample
%define DATA_SEG       0x2000        ; the sample arrays at 0x20000 (DATA_PHYS in kvm_bench.c)
%define OP_ARRAY       0x0000
%define NOP_ARRAY      0x1000        ; 1001 * 4 bytes fit below it
%define PORT_DONE      0x501         ; no KVM device: exits to the program
%define PORT_FINISHED  0x502
%define PORT_UART_SCR  0x3ff         ; no KVM device (no in-kernel UART): exits to userspace
%define PORT_PIC1_DATA 0x21          ; the in-kernel 8259 (KVM_CREATE_IRQCHIP): handled in KVM
%define MSR_IA32_PAT   0x277         ; KVM intercepts it (not in VMX's pass-through list)
%define HC_UNKNOWN     0x7fff        ; KVM answers -KVM_ENOSYS
%define XCR0_X87_SSE   3

; One timed sample, stored at [es:di + %2]: TSC before (low 32 bits: a sample is far
; shorter than 2^32 instructions), the case's setup (macro setup_%1), the operation (macro
; op_%1, or a NOP when %3 is nop), TSC after.
%macro TIMED 3
    rdtsc
    mov esi, eax
    setup_%1
  %ifidn %3, nop
    nop
  %else
    op_%1
  %endif
    rdtsc
    sub eax, esi
    mov [es:di + %2], eax
%endmacro

; A case: its name (setup_NAME, op_NAME) and number (the index into kvm_bench.c's
; case_names, reported in AL to PORT_DONE).
%macro CASE 2
    xor di, di
    mov bp, SAMPLES
%%sample:
    TIMED %1, OP_ARRAY, op
    TIMED %1, NOP_ARRAY, nop
    add di, 4
    dec bp
    jnz %%sample
    mov dx, PORT_DONE
    mov al, %2
    out dx, al
%endmacro

%macro setup_cpuid 0
    xor eax, eax
    xor ecx, ecx
%endmacro
%macro op_cpuid 0
    cpuid
%endmacro
%macro setup_vmcall 0
    mov eax, HC_UNKNOWN
    xor ebx, ebx
    xor ecx, ecx
%endmacro
%macro op_vmcall 0
    vmcall
%endmacro
%macro setup_out_uart 0
    mov dx, PORT_UART_SCR
    mov al, 0x5a
%endmacro
%macro op_out_uart 0
    out dx, al
%endmacro
%macro setup_in_pic 0
    mov dx, PORT_PIC1_DATA
%endmacro
%macro op_in_pic 0
    in al, dx
%endmacro
%macro setup_rdmsr 0
    mov ecx, MSR_IA32_PAT
%endmacro
%macro op_rdmsr 0
    rdmsr
%endmacro
%macro setup_xsetbv 0
    xor ecx, ecx
    mov eax, XCR0_X87_SSE
    xor edx, edx
%endmacro
%macro op_xsetbv 0
    xsetbv
%endmacro
%macro setup_mov_cr0 0
    mov eax, cr0
%endmacro
%macro op_mov_cr0 0
    mov cr0, eax
%endmacro

start:
    cli
    mov ax, DATA_SEG
    mov es, ax
    CASE cpuid, 0
    CASE vmcall, 1
    CASE out_uart, 2
    CASE in_pic, 3
    CASE rdmsr, 4
    CASE xsetbv, 5
    CASE mov_cr0, 6
    mov dx, PORT_FINISHED
    out dx, al
.hang:
    hlt
    jmp .hang
