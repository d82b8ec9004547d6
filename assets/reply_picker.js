// The reply box's "/" list of saved replies (components/reply_picker.py), from the keyboard: while the list is open,
// Down and Up move the highlighted option, Enter inserts it and Escape closes the list (the typed text stays). The
// highlight lives on the server (ReplyPickerState.active); these keys click the list's hidden buttons, in order, so
// an Enter pressed right after an arrow inserts what the arrow highlighted. Other keys, and Enter with nothing
// highlighted, do what they always do in a text box.
(function () {
  var moved = false; // an arrow was pressed since the person last typed (its highlight may still be on its way)
  function click(id) {
    var b = document.getElementById(id);
    if (b) b.click();
    return !!b;
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.id === "gs-reply-box") moved = false;
  }, true);
  document.addEventListener("keydown", function (e) {
    var box = e.target;
    if (!box || box.id !== "gs-reply-box" || e.isComposing || e.altKey || e.ctrlKey || e.metaKey) return;
    if (!document.getElementById("gs-picker")) { moved = false; return; }
    var hasOptions = !!document.querySelector("#gs-pick-list [role=option]");
    var k = e.key;
    if (k === "Escape") {
      click("gs-pick-escape");
    } else if ((k === "ArrowDown" || k === "ArrowUp") && hasOptions && !e.shiftKey) {
      click(k === "ArrowDown" ? "gs-pick-down" : "gs-pick-up");
      moved = true;
    } else if (k === "Enter" && !e.shiftKey && hasOptions && (moved || box.getAttribute("aria-activedescendant"))) {
      click("gs-pick-enter");
      moved = false;
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }, true);
})();
