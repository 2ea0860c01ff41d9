"""The CLIPort networks: a frozen CLIP semantic stream fused with a trainable Transporter spatial stream."""
