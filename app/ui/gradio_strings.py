"""Gradio's own strings (the upload area, the chat's buttons) in the page's two languages.

Gradio translates its built-in strings by the browser's language, so an English browser read "Drop
File Here" beside the page's "上传 Upload". Gradio's front end looks a dotted key up in a locale's
dictionary before it walks the nested one, so these flat keys, given for every locale a Chinese or
English reader's browser may name, win over the built-in ones.
"""

import gradio as gr

BILINGUAL = {
    "upload_text.drop_file": "拖放文件到此处 Drop File Here",
    "upload_text.click_to_upload": "点击上传 Click to Upload",
    "upload_text.paste_clipboard": "从剪贴板粘贴 Paste from Clipboard",
    "common.or": "或 or",
    "common.clear": "清除 Clear",
    "common.download": "下载 Download",
    "common.remove": "移除 Remove",
    "file.uploading": "上传中… Uploading…",
    "chatbot.copy_message": "复制 Copy message",
    "chatbot.copied_message": "已复制 Copied",
    "chatbot.like": "赞 Like",
    "chatbot.dislike": "踩 Dislike",
    "chatbot.retry": "重试 Retry",
    "chatbot.undo": "撤销 Undo",
    "chatbot.clear": "清除 Clear",
}

# the locales a Chinese or English browser names; any other language keeps Gradio's own
LOCALES = ("en", "en-US", "en-GB", "zh", "zh-CN", "zh-TW", "zh-HK")


def bilingual_gradio_strings() -> gr.I18n:
    return gr.I18n(**{locale: dict(BILINGUAL) for locale in LOCALES})
