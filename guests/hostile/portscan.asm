; portscan: reads every I/O port with IN (byte size on all 65536 ports, word and dword sizes
; on every port whose whole access stays clear of the virtual devices), then writes to the
; ports that reset, power off or reprogram a real PC (Bochs' shutdown port, the keyboard
; controller and 0xCF9 resets, port 0x92 fast reset, the chipset's ACPI power-off, PCI
; configuration space, both PICs, the PIT, CMOS/NMI, the other UARTs) and reads a few back.
; None may reach the hardware (docs/guest-abi.md §5): every unclaimed IN must give all ones
; and the machine must keep running. Prints "FAIL ..." and ends exit(1) on a bad IN, else
; prints the counts and ends exit(0).
; Skipped: the virtual devices COM1 0x3F8-0x3FF, isa-debug-exit 0xF4 and ACPI PM 0x604-0x605.
bits 32
%include "guest.inc"

%define PORT_COUNT       0x10000
%define DEBUG_EXIT_LAST  DEBUG_EXIT_PORT
%define COM1_LAST        (COM1 + 7)
%define ACPI_PM1A_LAST   (ACPI_PM1A_CNT + 1)
%define BOCHS_SHUTDOWN   0x8900
%define KBC_COMMAND      0x64
%define KBC_PULSE_RESET  0xFE
%define RESET_CONTROL    0xCF9
%define SYS_CTRL_A       0x92
%define PCI_CONFIG_ADDR  0xCF8
%define PCI_CONFIG_DATA  0xCFC
%define PIIX4_PM1A_CNT   0xB004     ; Bochs' PIIX4 ACPI PM base 0xB000 + PM1a_CNT
%define APM_CONTROL      0xB2
%define CMOS_INDEX       0x70
%define CMOS_DATA        0x71
%define PIC1_CMD         0x20
%define PIC1_DATA        0x21
%define PIC2_CMD         0xA0
%define PIC2_DATA        0xA1
%define PIT_CH0          0x40
%define PIT_CH2          0x42
%define PIT_MODE         0x43
%define PC_SPEAKER       0x61
%define COM2             0x2F8
%define COM3             0x3E8
%define COM4             0x2E8
%define QEMU_DEBUG_EXIT  0x501
%define BOCHS_E9         0xE9
%define WRITE_ENTRY_BYTES 7       ; one dangerous_writes entry

section .text
global _start
_start:
    mov esp, stack_top
    PUTS msg_start

    ; ---- byte INs on every port
    xor ebx, ebx                    ; port
.scan8:
    mov ecx, 1
    call port_is_virtual
    jc .next8
    mov edx, ebx
    in al, dx
    inc dword [count_in]
    cmp al, 0xFF
    je .next8
    movzx eax, al
    call record_bad
.next8:
    inc ebx
    cmp ebx, PORT_COUNT
    jb .scan8

    ; ---- word and dword INs (the access may not touch a virtual device's ports)
    xor ebx, ebx
.scan16:
    mov ecx, 2
    call port_is_virtual
    jc .next16
    mov edx, ebx
    in ax, dx
    inc dword [count_in]
    cmp ax, 0xFFFF
    je .next16
    movzx eax, ax
    call record_bad
.next16:
    inc ebx
    cmp ebx, PORT_COUNT - 1
    jb .scan16

    xor ebx, ebx
.scan32:
    mov ecx, 4
    call port_is_virtual
    jc .next32
    mov edx, ebx
    in eax, dx
    inc dword [count_in]
    cmp eax, 0xFFFFFFFF
    je .next32
    call record_bad
.next32:
    add ebx, 4                      ; dword INs on every 4th port: covers every byte once
    cmp ebx, PORT_COUNT - 3
    jb .scan32

    ; ---- string INs (hv emulates them into guest memory): all ones, exactly COUNT bytes
    mov edi, string_buf
    mov ecx, STRING_BYTES
    mov dx, COM2
    cld
    rep insb
    mov esi, string_buf
    mov ecx, STRING_BYTES
.check_string:
    lodsb
    cmp al, 0xFF
    jne .string_bad
    loop .check_string
    cmp byte [string_guard], 0x5A   ; the byte after the buffer is untouched
    je .string_ok
.string_bad:
    mov ebx, COM2
    mov eax, 0xBAD0
    call record_bad
.string_ok:

    ; ---- writes that would reset, power off or reprogram a real machine
    mov esi, shutdown_text          ; Bochs: "Shutdown" to 0x8900 ends the emulator
    mov dx, BOCHS_SHUTDOWN
.shutdown_byte:
    lodsb
    test al, al
    jz .shutdown_string
    out dx, al
    inc dword [count_out]
    jmp .shutdown_byte
.shutdown_string:
    mov esi, shutdown_text          ; the same bytes through OUTSB (string I/O)
    mov ecx, shutdown_text_len
    rep outsb
    add dword [count_out], shutdown_text_len

    mov esi, dangerous_writes
.write:
    movzx edx, word [esi]           ; port
    movzx ecx, byte [esi + 2]       ; size
    mov eax, [esi + 3]              ; value
    cmp ecx, 0
    je .writes_done
    cmp ecx, 1
    jne .not_byte
    out dx, al
    jmp .written
.not_byte:
    cmp ecx, 2
    jne .dword
    out dx, ax
    jmp .written
.dword:
    out dx, eax
.written:
    inc dword [count_out]
    add esi, WRITE_ENTRY_BYTES
    jmp .write
.writes_done:

    ; ---- read back what a real device would now answer: still all ones
    mov esi, readback_ports
.readback:
    movzx ebx, word [esi]
    test ebx, ebx
    jz .readback_done
    mov edx, ebx
    in eax, dx
    inc dword [count_in]
    cmp eax, 0xFFFFFFFF
    je .readback_next
    call record_bad
.readback_next:
    add esi, 2
    jmp .readback
.readback_done:

    ; ---- report
    PUTS msg_in
    mov eax, [count_in]
    call putdec32
    PUTS msg_out
    mov eax, [count_out]
    call putdec32
    PUTS msg_bad
    mov eax, [count_bad]
    call putdec32
    PUTS msg_nl
    cmp dword [count_bad], 0
    EXIT_FAIL_IF ne, .fail

; port_is_virtual: CF=1 when the access of ECX bytes at port EBX touches a virtual device
; (or would wrap past port 0xFFFF). Clobbers EAX.
port_is_virtual:
    lea eax, [ebx + ecx - 1]        ; last port of the access
    cmp eax, PORT_COUNT
    jae .yes
    mov eax, virtual_ranges
.range:
    cmp dword [eax], -1
    je .no
    ; overlap: port <= last_of_range && first_of_range <= port + size - 1
    cmp ebx, [eax + 4]
    ja .next
    push ebx
    lea ebx, [ebx + ecx - 1]
    cmp [eax], ebx
    pop ebx
    jbe .yes
.next:
    add eax, 8
    jmp .range
.no:
    clc
    ret
.yes:
    stc
    ret

; record_bad: an IN at port EBX returned EAX instead of all ones; prints the first few.
%define BAD_PRINT_MAX 8
record_bad:
    inc dword [count_bad]
    cmp dword [count_bad], BAD_PRINT_MAX
    ja .quiet
    PUTS msg_bad_port
    push eax
    mov eax, ebx
    call puthex32
    pop eax
    PUTS msg_bad_value
    call puthex32
    PUTS msg_nl
.quiet:
    ret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32

section .rodata
; [first, last] port ranges of the virtual devices, ended by -1
virtual_ranges:
    dd DEBUG_EXIT_PORT, DEBUG_EXIT_LAST
    dd COM1, COM1_LAST
    dd ACPI_PM1A_CNT, ACPI_PM1A_LAST
    dd -1

; {u16 port, u8 size, u32 value}, ended by size 0
%macro WRITE 3
    dw %1
    db %2
    dd %3
%endmacro
dangerous_writes:
    WRITE KBC_COMMAND, 1, KBC_PULSE_RESET           ; keyboard controller: pulse reset line
    WRITE RESET_CONTROL, 1, 0x02                    ; 0xCF9: hard reset, then do it
    WRITE RESET_CONTROL, 1, 0x06
    WRITE RESET_CONTROL, 1, 0x0E                    ; full reset (power cycle)
    WRITE SYS_CTRL_A, 1, 0x01                       ; fast reset
    WRITE PIIX4_PM1A_CNT, 2, 0x2000                 ; ACPI power-off (SLP_EN, SLP_TYP 0)
    WRITE PIIX4_PM1A_CNT, 2, 0x3400                 ; ACPI power-off (SLP_EN, SLP_TYP 5)
    WRITE APM_CONTROL, 1, 0x00                      ; APM/SMI command
    WRITE QEMU_DEBUG_EXIT, 1, 0x01                  ; QEMU's other isa-debug-exit
    WRITE BOCHS_E9, 1, '!'                          ; Bochs' port 0xE9 debug console
    WRITE PCI_CONFIG_ADDR, 4, 0x80000004            ; bus 0 dev 0 fn 0, command register
    WRITE PCI_CONFIG_DATA, 4, 0                     ; (would disable the host bridge)
    WRITE PCI_CONFIG_ADDR, 4, 0x8000F840            ; PIIX4 PM base register
    WRITE PCI_CONFIG_DATA, 4, 0x00000401
    WRITE PIC1_CMD, 1, 0x11                         ; re-initialise the master PIC
    WRITE PIC1_DATA, 1, 0x08                        ;   vectors 8.. (the CPU exceptions)
    WRITE PIC1_DATA, 1, 0x04
    WRITE PIC1_DATA, 1, 0x01
    WRITE PIC1_DATA, 1, 0x00                        ;   and unmask every IRQ
    WRITE PIC2_CMD, 1, 0x11                         ; same for the slave
    WRITE PIC2_DATA, 1, 0x70
    WRITE PIC2_DATA, 1, 0x02
    WRITE PIC2_DATA, 1, 0x01
    WRITE PIC2_DATA, 1, 0x00
    WRITE PIC1_CMD, 1, 0x20                         ; EOI
    WRITE PIT_MODE, 1, 0x34                         ; PIT channel 0: rate generator
    WRITE PIT_CH0, 1, 0x01                          ;   divisor 1: the fastest timer
    WRITE PIT_CH0, 1, 0x00
    WRITE PIT_MODE, 1, 0xB6                         ; channel 2 square wave
    WRITE PIT_CH2, 1, 0x01
    WRITE PIT_CH2, 1, 0x00
    WRITE PC_SPEAKER, 1, 0x03                       ; speaker on
    WRITE CMOS_INDEX, 1, 0x8F                       ; NMI off, CMOS shutdown status
    WRITE CMOS_DATA, 1, 0x0A                        ;   "jump via 40:67" on next reset
    WRITE COM2 + 3, 1, 0x80                         ; COM2 DLAB
    WRITE COM2, 1, 0x01
    WRITE COM2 + 3, 1, 0x03
    WRITE COM2 + 1, 1, 0x0F                         ; every UART interrupt on
    WRITE COM2 + 4, 1, 0x1B                         ; loopback, OUT2
    WRITE COM2, 1, 'X'
    WRITE COM3 + 1, 1, 0x0F
    WRITE COM3, 1, 'X'
    WRITE COM4 + 1, 1, 0x0F
    WRITE COM4, 1, 'X'
    WRITE 0, 0, 0

; ports read back (dword IN) after the writes, ended by 0
readback_ports:
    dw PIC1_DATA, PIC2_DATA, PIT_CH0, PCI_CONFIG_DATA, PCI_CONFIG_ADDR, CMOS_DATA
    dw COM2, COM2 + 1, COM2 + 5, SYS_CTRL_A, RESET_CONTROL, KBC_COMMAND, 0

shutdown_text: db "Shutdown", 0
shutdown_text_len equ $ - shutdown_text - 1

msg_start:     db "portscan: IN on every port, then writes to the dangerous ones", 10, 0
msg_in:        db "INs ", 0
msg_out:       db ", OUTs ", 0
msg_bad:       db ", INs not all ones ", 0
msg_bad_port:  db "FAIL: IN from port ", 0
msg_bad_value: db " gave ", 0
msg_nl:        db 10, 0
msg_pass:      db "PASS: no port reached the hardware", 10, 0
msg_fail:      db "FAIL: some INs were not all ones", 10, 0

section .data
string_buf:    times 64 db 0
STRING_BYTES equ $ - string_buf
string_guard:  db 0x5A

section .bss
alignb 4
count_in:  resd 1
count_out: resd 1
count_bad: resd 1
alignb 16
    resb 4096
stack_top:
