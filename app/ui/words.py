"""What the page says, in both of its languages: statuses, stages, and the reasons a file was
refused."""

STATUS = {
    "pending": "等待中 pending",
    "indexed": "已索引 indexed",
    "duplicate": "重复 duplicate",
    "failed": "失败 failed",
    "deleting": "删除中 deleting",
    "cancelled": "已取消 cancelled",
}
STAGE = {
    "queued": "排队中 queued",
    "parsing": "读取中 reading",
    "ocr": "文字识别中 OCR",
    "embedding": "向量化中 embedding",
    "writing": "写入中 writing",
    "waiting for the store": "等待存储恢复 waiting for the store",
    "done": "完成 done",
}

# the start of an English reason from ingest -> its Chinese gloss, shown before it
_REASONS = (
    ("disk full", "磁盘已满"),
    ("unsupported file type", "不支持的文件类型"),
    ("larger than the upload limit", "文件超过上传大小限制"),
    ("file too large", "文件过大"),
    ("empty file", "空文件"),
    ("encrypted PDF", "加密的 PDF，需要密码才能打开"),
    ("damaged PDF", "PDF 文件已损坏"),
    ("not a PDF file", "不是有效的 PDF 文件"),
    ("too many pages", "页数过多"),
    ("no text found", "文件中没有找到文字"),
    ("no text layer", "没有文字层，且图片过大无法安全识别"),
    ("reading the file took longer", "读取超时"),
    ("the file crashed the reader", "读取文件时出错"),
    ("the file needs more than", "读取该文件需要的内存过多"),
    ("could not read the file", "无法读取该文件"),
    ("cannot read file", "无法读取该文件"),
    ("could not store the document", "无法写入知识库"),
    ("the knowledge-base store failed", "知识库存储出错"),
    ("file not found", "找不到文件"),
)


def reason(text: str | None) -> str:
    """An ingest reason with its Chinese gloss first (the English, which names the details, kept
    whole)."""
    if not text:
        return ""
    for start, gloss in _REASONS:
        if start in text:
            return f"{gloss}：{text}"
    return text
