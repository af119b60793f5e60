"""A classroom in real browsers: the instructor creates it, a student joins and deploys, the
projector watches — three browser contexts (three people) against one live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .test_cluster_view import wait_until


def test_instructor_student_and_projector(
    kubelab_server: str, chromium: Any, artifacts: Path
) -> None:
    people = [chromium.new_context(viewport={"width": 1280, "height": 720}) for _ in range(3)]
    errors: list[str] = []
    teacher, student, projector = (ctx.new_page() for ctx in people)
    for pg in (teacher, student, projector):
        pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # The instructor signs up and creates a classroom with two workers.
        teacher.goto(f"{kubelab_server}/accounts/signup/")
        teacher.fill("#id_username", "ms-lee")
        teacher.fill("#id_password1", "kube-lab-2026!")
        teacher.fill("#id_password2", "kube-lab-2026!")
        teacher.click("button[type=submit]")
        expect(teacher).to_have_url(re.compile(r"/classrooms/$"))
        teacher.fill("#id_title", "Friday lab")
        teacher.select_option("#id_scenario", "demo")
        teacher.fill("#id_workers", "2")
        teacher.click("[data-new-classroom] button[type=submit]")
        expect(teacher).to_have_url(re.compile(r"/dashboard/$"))
        code = teacher.inner_text("[data-join-code]")
        join_url = teacher.inner_text("[data-join-url]")
        assert re.fullmatch(r"[A-Z2-9]{6}", code) and join_url.endswith(f"/join/{code}/")
        expect(teacher.locator(".join-qr svg")).to_be_visible()
        slug = re.search(r"/c/([^/]+)/dashboard/", teacher.url).group(1)

        # A student follows the join link, types a name, and lands on the cluster view.
        student.goto(join_url)
        student.fill("#id_name", "Ana María")
        student.click("[data-join-form] button[type=submit]")
        expect(student).to_have_url(re.compile(rf"/c/{slug}/$"))
        expect(student.locator(".whoami")).to_contain_text("ana-maria")
        expect(student.locator("[data-clock]")).to_have_count(0)  # no instructor controls
        expect(student.locator("[data-node-action]")).to_have_count(0)

        # …applies the nginx example in their namespace from the editor.
        student.goto(f"{kubelab_server}/c/{slug}/apply/")
        expect(student.locator('input[name="namespace"]')).to_have_value("ana-maria")
        student.click('[data-example="nginx"]')
        student.click("[data-apply]")
        expect(student.locator("[data-result]")).to_have_text(
            "deployment.apps/nginx-deployment created"
        )
        # …and the default namespace is not theirs.
        student.fill('input[name="namespace"]', "default")
        student.click("[data-apply]")
        expect(student.locator("[data-result]")).to_contain_text(
            'User "ana-maria" cannot create resource "deployments" in API group "apps" in the namespace "default"'
        )

        # The projector link shows the same cluster, view only.
        projector.goto(teacher.get_attribute("[data-projector-link]", "href"))
        expect(projector.locator("body.projector")).to_have_count(1)
        wait_until(
            projector,
            'document.querySelectorAll(\'[data-pod^="ana-maria/nginx-deployment-"][data-status="Running"]\').length === 3',
            timeout=40000,
        )
        expect(projector.locator("[data-open-console]")).to_have_count(0)

        # The student sees their own pods in colour and the demo's pods greyed.
        student.goto(f"{kubelab_server}/c/{slug}/")
        wait_until(
            student,
            'document.querySelectorAll(\'[data-pod^="ana-maria/"][data-status="Running"]\').length === 3',
            timeout=40000,
        )
        assert student.locator('[data-pod^="ana-maria/"].others').count() == 0
        assert student.locator('[data-pod^="default/"].others').count() > 0
        student.screenshot(path=str(artifacts / "classroom-student.png"))

        # The roster knows how the student is doing.
        teacher.goto(f"{kubelab_server}/c/{slug}/dashboard/")
        expect(teacher.locator('[data-student="ana-maria"]')).to_contain_text("3/3 ready")
        teacher.screenshot(path=str(artifacts / "classroom-dashboard.png"), full_page=True)

        # A line from the instructor appears on the student's screen.
        teacher.fill('input[name="text"]', "Now fail a node and watch your pods")
        teacher.click(".announce-form button")
        expect(student.locator("[data-announcement-text]")).to_have_text(
            "Now fail a node and watch your pods"
        )
        projector.screenshot(path=str(artifacts / "classroom-projector.png"))
    finally:
        for ctx in people:
            ctx.close()
    assert not errors, errors
