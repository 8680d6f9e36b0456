"""Source preview over real HTTP: the original file kept and served, a PDF page drawn with the cited
chunk highlighted where the chunk really is on the page, the passage in its surrounding text, and
bounds."""

import io

import httpx
import pytest

from app.settings import Settings
from tests.make_files import FileFactory
from tests.servers import running_server, wait_job

FILLER = (
    "星河科技成立于二〇〇八年，总部位于杭州，最初只有十二名员工。"
    "公司先后在上海、深圳和成都设立了研发中心。"
    "二〇一五年公司完成了第一轮融资，随后推出了面向中小企业的云端办公套件。"
    "组织结构上，公司设有产品、研发、市场、"
    "销售和行政五个部门，各部门负责人向首席执行官汇报。"
    "每个季度公司都会举办一次全员大会，回顾业绩并公布下一阶段的计划。"
    "公司的核心价值观是诚信、协作和持续学习，这些价值观写入了每位新员工的入职培训材料。"
    "行政部门负责办公场地、设备采购以及差旅安排等日常事务。"
    "二〇一八年公司搬入新的园区，园区内有健身房、图书室和员工餐厅。"
    "为了支持员工成长，公司每年为每位员工提供一笔学习基金，可用于购买书籍或参加外部课程。"
    "公司还与多所高校合作设立了联合实验室，研究方向包括自然语言处理、知识图谱和推荐系统。"
    "在社会责任方面，公司每年组织志愿者活动，并向偏远地区的学校捐赠图书和电脑。"
    "信息安全委员会每半年审查一次数据访问权限，确保客户数据只被授权人员访问。"
)
TARGET = (
    "星河科技规定：正式员工每年享有十五天带薪年假，"
    "年假可以分两次休完，未休完的年假可顺延至次年三月。"
)
TARGET_RECT = (50, 520, 545, 640)  # where the target paragraph is drawn on page 2 (points)


def make_pdf(path):
    import pymupdf

    doc = pymupdf.open()
    first = doc.new_page(width=595, height=842)
    first.insert_textbox(
        pymupdf.Rect(50, 50, 545, 800),
        "第一页：欢迎阅读员工手册。" * 5,
        fontsize=11,
        fontname="china-s",
    )
    second = doc.new_page(width=595, height=842)
    second.insert_textbox(pymupdf.Rect(50, 50, 545, 480), FILLER, fontsize=11, fontname="china-s")
    second.insert_textbox(pymupdf.Rect(*TARGET_RECT), TARGET, fontsize=11, fontname="china-s")
    doc.save(str(path))
    doc.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from app.web import create_app

    root = tmp_path_factory.mktemp("sources")
    (root / "seed").mkdir()
    make_pdf(root / "handbook.pdf")
    (root / "notes.md").write_text(
        "# 笔记\n\n第一段讲南瓜书。\n\n第二段讲西瓜书的作者是周志华。\n", encoding="utf-8"
    )
    # text only as pixels: OCR'd at ingest
    FileFactory(root).image_only_pdf("scan.pdf", "第七条年假规定")
    # 400-character page chunks: TARGET_RECT and the "nothing from the top" check are drawn for a
    # chunk that starts below the filler paragraph (the default 250 would start it inside the
    # filler).
    settings = Settings(
        data_dir=root / "data",
        seed_dir=root / "seed",
        preload_model=False,
        _env_file=None,
        page_chunk_size=400,
        page_chunk_overlap=50,
    )
    with (
        running_server(create_app(settings, with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=120) as c,
    ):
        assert c.post("/kbs", json={"name": "手册"}).status_code == 201
        files = [
            ("files", (p.name, p.read_bytes()))
            for p in (root / "handbook.pdf", root / "notes.md", root / "scan.pdf")
        ]
        job = wait_job(c, c.post("/kbs/手册/documents", files=files).json()["job_id"])
        assert [f["status"] for f in job["files"]] == ["indexed", "indexed", "indexed"], job
        yield c, root


def target_hit(client):
    hits = client.post(
        "/search", json={"kb": "手册", "query": "年假可以分两次休完吗", "k": 5}
    ).json()["hits"]
    return next(h for h in hits if "分两次休完" in h["text"])


def test_original_file_is_kept_and_served(api):
    client, root = api
    hit = target_hit(client)
    reply = client.get(f"/kbs/手册/documents/{hit['doc_id']}/file")
    assert reply.status_code == 200 and reply.content == (root / "handbook.pdf").read_bytes()
    assert (
        reply.headers["content-type"] == "application/pdf"
        and "handbook.pdf" in reply.headers["content-disposition"]
    )


def test_highlight_lies_where_the_chunk_is_on_the_page(api):
    from PIL import Image

    client, _ = api
    hit = target_hit(client)
    assert hit["page"] == 2
    base = f"/kbs/手册/documents/{hit['doc_id']}/pages/2"
    info = client.get(base + "/highlights", params={"chunk": hit["chunk_id"]}).json()
    zoom = info["height"] / 842
    x0, y0, x1, y1 = (v * zoom for v in TARGET_RECT)
    boxes = info["boxes"]
    assert boxes and any(b[0] < x1 and b[2] > x0 and b[1] < y1 and b[3] > y0 for b in boxes), (
        boxes,
        TARGET_RECT,
    )
    # nothing from the top of the page is painted
    assert all(b[1] > 150 * zoom for b in boxes), boxes

    png = client.get(base + ".png", params={"chunk": hit["chunk_id"]})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content)).convert("RGB")
    assert image.size == (info["width"], info["height"])
    bx = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    painted = _mean(image.crop((int(bx[0]), int(bx[1]), int(bx[2]), int(bx[3]))))
    # blank, unpainted
    margin = _mean(image.crop((int(x0), int(780 * zoom), int(x1), int(820 * zoom))))
    assert painted[0] - painted[2] > 40 and abs(margin[0] - margin[2]) < 5, (painted, margin)

    plain = client.get(base + ".png")  # no chunk: the page without highlight
    assert plain.status_code == 200 and plain.content != png.content


def test_the_supporting_sentence_is_drawn_inside_the_passage(tmp_path):
    """Issue 38, item 5: the sentence that supports an answer is drawn more strongly, inside the
    passage's boxes, and only where the passage is."""
    from ingest import render_page

    pdf = tmp_path / "handbook.pdf"
    make_pdf(pdf)
    sentence = "年假可以分两次休完，未休完的年假可顺延至次年三月。"
    preview = render_page(pdf, 2, TARGET, support=sentence)
    assert preview.boxes and preview.support_boxes
    for x0, y0, x1, y1 in preview.support_boxes:  # covered by the passage's boxes
        covered = sum(
            max(0.0, min(x1, b[2]) - max(x0, b[0])) * max(0.0, min(y1, b[3]) - max(y0, b[1]))
            for b in preview.boxes
        )
        assert covered >= 0.8 * (x1 - x0) * (y1 - y0), (preview.support_boxes, preview.boxes)
    plain = render_page(pdf, 2, TARGET)
    assert not plain.support_boxes and plain.png != preview.png
    assert not render_page(pdf, 2, "", support=sentence).support_boxes  # no passage, no mark


def test_ocr_page_highlighted_by_the_boxes_recorded_at_ingest(api):
    client, _ = api
    hits = client.post("/search", json={"kb": "手册", "query": "第七条年假规定", "k": 5}).json()[
        "hits"
    ]
    hit = next(h for h in hits if h["source"] == "scan.pdf")
    info = client.get(
        f"/kbs/手册/documents/{hit['doc_id']}/pages/1/highlights", params={"chunk": hit["chunk_id"]}
    ).json()
    # the scanned page is 400 x 120 points; its text sits at x 20-220, y 40-80
    zoom = info["height"] / 120
    assert info["boxes"], info
    assert any(
        b[0] < 220 * zoom and b[2] > 20 * zoom and b[1] < 80 * zoom and b[3] > 40 * zoom
        for b in info["boxes"]
    )


def _mean(image) -> tuple[float, float, float]:
    pixels = list(image.getdata())
    return tuple(sum(p[i] for p in pixels) / len(pixels) for i in range(3))


def test_passage_in_its_surrounding_text(api):
    client, _ = api
    hits = client.post("/search", json={"kb": "手册", "query": "西瓜书的作者是谁", "k": 5}).json()[
        "hits"
    ]
    hit = next(h for h in hits if h["source"] == "notes.md")
    body = client.get(f"/kbs/手册/documents/{hit['doc_id']}/passages/{hit['chunk_id']}").json()
    assert (
        body["source"] == "notes.md" and "周志华" in body["text"] + body["after"] + body["before"]
    )
    # no pages
    assert client.get(f"/kbs/手册/documents/{hit['doc_id']}/pages/1.png").status_code == 422


def test_bounds_and_bad_ids_are_4xx(api):
    client, _ = api
    hit = target_hit(client)
    doc = f"/kbs/手册/documents/{hit['doc_id']}"
    too_far = client.get(doc + "/pages/3.png")
    assert too_far.status_code == 422 and "out of range" in too_far.json()["detail"]
    assert client.get(doc + "/pages/0.png").status_code == 422
    assert client.get(doc + "/passages/no-such-chunk").status_code == 404
    assert client.get("/kbs/手册/documents/..%2F..%2Fetc%2Fpasswd/file").status_code == 404
    assert client.get("/kbs/手册/documents/" + "0" * 64 + "/file").status_code == 404
    assert client.get(f"/kbs/nope/documents/{hit['doc_id']}/file").status_code == 404


def test_deleting_a_document_deletes_its_original(api):
    client, root = api
    notes = next(d for d in client.get("/kbs/手册/documents").json() if d["source"] == "notes.md")
    assert client.get(f"/kbs/手册/documents/{notes['doc_id']}/file").status_code == 200
    assert client.delete(f"/kbs/手册/documents/{notes['doc_id']}").status_code == 204
    assert client.get(f"/kbs/手册/documents/{notes['doc_id']}/file").status_code == 404
    kept = list((root / "data" / "files").rglob("*.md"))
    assert kept == []


def test_a_documents_passages_in_indexed_order_paged_and_searched(api):
    client, _ = api
    hit = target_hit(client)
    url = f"/kbs/手册/documents/{hit['doc_id']}/passages"
    whole = client.get(url, params={"limit": 500}).json()
    items = whole["items"]
    assert whole["source"] == "handbook.pdf" and whole["total"] == len(items) >= 2
    assert [i["index"] for i in items] == list(range(len(items)))
    assert [i["page"] for i in items] == sorted(i["page"] for i in items)
    assert all(i["enabled"] and not i["edited"] for i in items)
    assert hit["chunk_id"] in [i["chunk_id"] for i in items]
    second = client.get(url, params={"offset": 1, "limit": 1}).json()
    assert second["items"] == items[1:2] and second["total"] == whole["total"]
    found = client.get(url, params={"q": "分两次休完"}).json()
    assert found["total"] >= 1 and all("分两次休完" in i["text"] for i in found["items"])
    assert client.get(url, params={"q": "不存在的词语组合"}).json()["total"] == 0


def test_passages_of_unknown_document_or_bad_paging_are_4xx(api):
    client, _ = api
    assert client.get("/kbs/手册/documents/" + "0" * 64 + "/passages").status_code == 404
    assert client.get("/kbs/手册/documents/nope/passages").status_code == 404
    hit = target_hit(client)
    url = f"/kbs/手册/documents/{hit['doc_id']}/passages"
    assert client.get(url, params={"limit": 0}).status_code == 422
    assert client.get(url, params={"offset": -1}).status_code == 422
