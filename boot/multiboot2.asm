; Multiboot2 header (Multiboot2 spec §3.1). GRUB finds it in the first 32 KiB of hv.elf.
%include "boot/multiboot2.inc"

section .multiboot2
align 8
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

    ; Information request: hv cannot boot without these (not optional).
align 8
.info_request:
    dw MB2_HEADER_TAG_INFO_REQUEST, 0
    dd .info_request_end - .info_request
    dd MB2_TAG_CMDLINE
    dd MB2_TAG_MODULE
    dd MB2_TAG_MMAP
    dd MB2_TAG_BOOT_LOADER_NAME
.info_request_end:

    ; The RSDP is optional: firmware without ACPI still boots hv.
align 8
.info_request_optional:
    dw MB2_HEADER_TAG_INFO_REQUEST, MB2_HEADER_TAG_OPTIONAL
    dd .info_request_optional_end - .info_request_optional
    dd MB2_TAG_ACPI_OLD
    dd MB2_TAG_ACPI_NEW
.info_request_optional_end:

    ; Modules on page boundaries: guest images are copied and freed by the frame.
align 8
    dw MB2_HEADER_TAG_MODULE_ALIGN, 0
    dd 8

align 8
    dw MB2_HEADER_TAG_END, 0
    dd 8
mb2_header_end:
