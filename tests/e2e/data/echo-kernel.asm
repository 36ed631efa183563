; A stand-in for hv when testing tools/hvrun's console input (HVRUN_KERNEL): a multiboot2
; kernel that prints `hv: ready`, then reads COM1 (polled, 16550 LSR.DR) and answers each
; line it receives with `echo: LINE`. The line `quit` ends it like hv ends: a guest verdict
; line for the module hvrun gave it (name=echo), `hv: end: ok`, then the emulator's exit
; port (Bochs 0x8900 "Shutdown", QEMU isa-debug-exit at 0xf4).
; Build: nasm -f elf32 echo-kernel.asm && ld -m elf_i386 -Ttext=0x100000 -o echo-kernel.elf
bits 32

COM1            equ 0x3F8
UART_RBR        equ 0           ; receive buffer (DLAB=0)
UART_THR        equ 0           ; transmit holding (DLAB=0)
UART_LSR        equ 5           ; line status
LSR_DR          equ 0x01        ; data ready
LSR_THRE        equ 0x20        ; transmit holding register empty
BOCHS_SHUTDOWN  equ 0x8900
QEMU_DEBUG_EXIT equ 0xF4
LINE_MAX        equ 120

MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0

section .text
align 8
mb2_header:
    dd MB2_MAGIC, MB2_ARCH_I386, mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    dw 0, 0                     ; end tag
    dd 8
mb2_header_end:

global _start
_start:
    cli
    mov esp, stack_top
    mov esi, msg_ready
    call puts
.next_line:
    xor edi, edi                ; bytes in line
.next_byte:
    call getc
    cmp al, 13
    je .end_of_line
    cmp al, 10
    je .end_of_line
    cmp edi, LINE_MAX
    jae .next_byte              ; too long: the rest is dropped
    mov [line + edi], al
    inc edi
    jmp .next_byte
.end_of_line:
    test edi, edi
    jz .next_line               ; \r\n, or an empty line
    mov byte [line + edi], 0
    cmp edi, 4
    jne .echo
    cmp dword [line], 'quit'
    je .quit
.echo:
    mov esi, msg_echo
    call puts
    mov esi, line
    call puts
    mov esi, msg_crlf
    call puts
    jmp .next_line
.quit:
    mov esi, msg_end
    call puts
    mov dx, BOCHS_SHUTDOWN
    mov esi, msg_shutdown
.shutdown:
    lodsb
    test al, al
    jz .qemu
    out dx, al
    jmp .shutdown
.qemu:
    mov dx, QEMU_DEBUG_EXIT
    xor eax, eax
    out dx, al
.halt:
    hlt
    jmp .halt

; al <- the next byte COM1 received
getc:
    mov dx, COM1 + UART_LSR
.wait:
    in al, dx
    test al, LSR_DR
    jz .wait
    mov dx, COM1 + UART_RBR
    in al, dx
    ret

; writes the NUL-terminated string at esi to COM1
puts:
    lodsb
    test al, al
    jz .done
    mov bl, al
    mov dx, COM1 + UART_LSR
.wait:
    in al, dx
    test al, LSR_THRE
    jz .wait
    mov dx, COM1 + UART_THR
    mov al, bl
    out dx, al
    jmp puts
.done:
    ret

section .data
msg_ready:    db "hv: booting (echo-kernel, a test stand-in for hv)", 13, 10
              db "hv: ready", 13, 10, 0
msg_echo:     db "echo: ", 0
msg_crlf:     db 13, 10, 0
msg_end:      db "hv: guest echo ended: exit(0) exits=0", 13, 10, "hv: end: ok", 13, 10, 0
msg_shutdown: db "Shutdown", 0

section .bss
line:   resb LINE_MAX + 1
alignb 16
        resb 4096
stack_top:
