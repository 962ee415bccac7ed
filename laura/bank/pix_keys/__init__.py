"""The bank's Pix keys directory (DICT side): which customer a key points to, at most five per account."""
