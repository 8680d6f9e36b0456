"""Words left out of a keyword query: so common that they only add noise to an OR query.

jieba ships without a stop-word list. The base list is the question words and particles of both
languages; ``CHINESE_EXTRA`` adds Chinese function words (prepositions, conjunctions, measure and
pronoun words, and the single characters ``cut_for_search`` splits off a question: 中, 时, 对 ...),
used when ``retrieval.keyword.CHINESE_STOPWORDS`` is on (off by default: no win on the long-document
benchmark, README "Long documents").
"""

BASE = frozenset(
    "的 了 是 在 和 与 及 或 也 就 都 而 之 其 这 那 有 我 你 他 她 它 们 吗 呢 吧 啊 什么 怎么 如何 为什么 哪些 哪个 "
    "一个 可以 请 问 what which who whom how why when where is are was were be been the a an of to in on for "
    "and or with by as at from that this it its do does did can could should would".split()
)

CHINESE_EXTRA = frozenset(
    "中 时 对 把 被 给 从 到 向 往 为 以 于 由 将 让 使 即 等 个 些 该 此 各 每 又 还 才 再 并 但 却 则 若 "
    "里 上 下 内 外 前 后 去 来 会 能 要 想 得 地 着 过 么 啦 呀 嘛 哦 "
    "如果 因为 所以 那么 但是 而且 并且 或者 以及 还是 就是 也是 不是 只是 怎样 怎么样 为何 是否 哪里 哪儿 "
    "多少 几个 有没有 是不是 能否 分别 一下 出来 起来 时候 这个 那个 这些 那些 这样 那样 这里 那里 "
    "我们 你们 他们 它们 其中 之中 之间 当中 对于 关于 根据 通过 进行 需要 应该 可能 一种 一些 有何 有什么".split()
)
