"""Words left out of a keyword query: so common that they only add noise to an OR query.

jieba ships without a stop-word list. The base list is the question words and particles of both
languages. (A longer list of Chinese function words was measured on the long-document benchmark and
dropped: BM25's IDF already discounts them.)
"""

BASE = frozenset(
    "的 了 是 在 和 与 及 或 也 就 都 而 之 其 这 那 有 我 你 他 她 它 们 吗 呢 吧 啊 什么 怎么"
    " 如何 为什么 哪些 哪个 一个 可以 请 问 what which who whom how why when where is are was were"
    " be been the a an of to in on for and or with by as at from that this it its do does did can"
    " could should would".split()
)
