/**
 * Claimsift for the block editor: a sidebar with a "Check claims" button that sends the post's text
 * blocks to this site's /wp-json/claimsift/v1/analyze route (which adds the API key server-side) and
 * highlights every sentence in its block, by label, with the editor's annotations API. Until then it shows
 * the result a background check stored with the post (GET /wp-json/claimsift/v1/posts/<id>), if any.
 *
 * No build step: plain ES2017 over the wp.* globals WordPress loads. The pure helpers at the top take no
 * wp.* object, so tests run them under Node (module.exports at the end).
 */
(function (root) {
	"use strict";

	var SOURCE_PREFIX = "claimsift-";
	// Blocks whose text is one rich-text attribute: block name → attribute name.
	var TEXT_ATTRIBUTES = {
		"core/paragraph": "content",
		"core/heading": "content",
		"core/list-item": "content",
		"core/quote": "value",
		"core/pullquote": "value",
		"core/verse": "content",
		"core/preformatted": "content",
	};

	function slug(name) {
		return String(name).toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
	}

	/** The annotation source of a sentence: its label, and whether it is uncertain (for the CSS). */
	function sourceFor(sentence) {
		return SOURCE_PREFIX + slug(sentence.label) + (sentence.uncertain ? "-uncertain" : "");
	}

	/**
	 * The text blocks of a block tree, depth first, as {clientId, attribute, text}.
	 * toText turns a rich-text attribute value (HTML string or RichTextData) into the plain text whose
	 * JavaScript (UTF-16) indices the annotations use.
	 */
	function textBlocks(blocks, toText) {
		var found = [];
		(function walk(list) {
			list.forEach(function (block) {
				var attribute = TEXT_ATTRIBUTES[block.name];
				if (attribute && block.attributes && block.attributes[attribute] !== undefined) {
					found.push({
						clientId: block.clientId,
						attribute: attribute,
						text: toText(block.attributes[attribute]),
					});
				}
				walk(block.innerBlocks || []);
			});
		})(blocks);
		return found;
	}

	/** The request body for the proxy: the block's client id as its id, empty blocks left out. */
	function requestBody(found) {
		return {
			blocks: found
				.filter(function (block) {
					return block.text.trim() !== "";
				})
				.map(function (block) {
					return { id: block.clientId, text: block.text };
				}),
		};
	}

	/**
	 * One annotation per sentence, from the service's per-block result. Offsets are the UTF-16 ones;
	 * a sentence whose offsets do not select its own text (the block changed meanwhile) is skipped.
	 */
	function annotationsFor(result, found) {
		var byId = {};
		found.forEach(function (block) {
			byId[block.clientId] = block;
		});
		var annotations = [];
		(result.blocks || []).forEach(function (blockResult) {
			var block = byId[blockResult.id];
			if (!block) return;
			blockResult.sentences.forEach(function (sentence) {
				var start = sentence.start_utf16;
				var end = sentence.end_utf16;
				if (block.text.slice(start, end) !== sentence.text) return;
				annotations.push({
					source: sourceFor(sentence),
					blockClientId: block.clientId,
					richTextIdentifier: block.attribute,
					range: { start: start, end: end },
					sentence: sentence,
				});
			});
		});
		return annotations;
	}

	/** How many sentences an answer holds: per block for a blocks request, else at the top level. */
	function sentenceCount(result) {
		if (!result.blocks) return (result.sentences || []).length;
		return result.blocks.reduce(function (total, block) {
			return total + block.sentences.length;
		}, 0);
	}

	var helpers = {
		SOURCE_PREFIX: SOURCE_PREFIX,
		TEXT_ATTRIBUTES: TEXT_ATTRIBUTES,
		sourceFor: sourceFor,
		textBlocks: textBlocks,
		requestBody: requestBody,
		annotationsFor: annotationsFor,
		sentenceCount: sentenceCount,
	};

	if (typeof module !== "undefined" && module.exports) {
		module.exports = helpers;
	}
	if (!root.wp || !root.wp.plugins) {
		return; // not in the block editor (a test under Node)
	}

	// --- the editor sidebar ------------------------------------------------------------------------

	var wp = root.wp;
	var el = wp.element.createElement;
	var useState = wp.element.useState;
	var useEffect = wp.element.useEffect;
	var useSelect = wp.data.useSelect;
	var __ = wp.i18n.__;
	var sprintf = wp.i18n.sprintf;
	var components = wp.components;
	var PluginSidebar = (wp.editor && wp.editor.PluginSidebar) || wp.editPost.PluginSidebar;
	var PluginSidebarMoreMenuItem =
		(wp.editor && wp.editor.PluginSidebarMoreMenuItem) || wp.editPost.PluginSidebarMoreMenuItem;
	var usedSources = {};

	function richTextToPlain(value) {
		// WordPress 6.5+ may hand a RichTextData object; older versions an HTML string.
		var html = typeof value === "string" ? value : String(value);
		return wp.richText.create({ html: html }).text;
	}

	function clearAnnotations() {
		var annotations = wp.data.dispatch("core/annotations");
		Object.keys(usedSources).forEach(function (source) {
			annotations.__experimentalRemoveAnnotationsBySource(source);
		});
		usedSources = {};
	}

	function annotate(annotations) {
		clearAnnotations();
		var store = wp.data.dispatch("core/annotations");
		annotations.forEach(function (annotation) {
			usedSources[annotation.source] = true;
			store.__experimentalAddAnnotation({
				source: annotation.source,
				blockClientId: annotation.blockClientId,
				richTextIdentifier: annotation.richTextIdentifier,
				range: annotation.range,
			});
		});
	}

	function analyse() {
		var blocks = wp.data.select("core/block-editor").getBlocks();
		var found = textBlocks(blocks, richTextToPlain);
		var body = requestBody(found);
		if (body.blocks.length === 0) {
			return Promise.reject(new Error(__("The post has no text to check.", "claimsift")));
		}
		return wp
			.apiFetch({ path: "/claimsift/v1/analyze", method: "POST", data: body })
			.then(function (result) {
				var annotations = annotationsFor(result, found);
				annotate(annotations);
				return { result: result, annotations: annotations };
			});
	}

	function initial(sentence) {
		return sentence.label.charAt(0).toUpperCase() + (sentence.uncertain ? "?" : "");
	}

	function Counts(props) {
		return el(
			"ul",
			{ className: "claimsift-counts" },
			Object.keys(props.counts).map(function (label) {
				return el(
					"li",
					{ key: label, className: "claimsift-count claimsift-label-" + slug(label), "data-label": label },
					el("span", { className: "claimsift-initial", "aria-hidden": "true" }, label.charAt(0).toUpperCase()),
					" " + label + ": ",
					el("strong", null, String(props.counts[label]))
				);
			})
		);
	}

	function SentenceList(props) {
		return el(
			"ol",
			{ className: "claimsift-sentences" },
			props.annotations.map(function (annotation, i) {
				var sentence = annotation.sentence;
				return el(
					"li",
					{ key: i },
					el(
						components.Button,
						{
							variant: "link",
							className: "claimsift-sentence claimsift-label-" + slug(sentence.label),
							onClick: function () {
								wp.data.dispatch("core/block-editor").selectBlock(annotation.blockClientId);
							},
						},
						initial(sentence) + " " + sentence.text
					),
					" ",
					el("span", { className: "claimsift-confidence" }, Math.round(sentence.confidence * 100) + "%")
				);
			})
		);
	}

	/** The answer of the check just run: counts, how many sentences the service had cached, the list. */
	function LiveResult(props) {
		var result = props.result;
		var total = sentenceCount(result);
		return el(
			"div",
			{ className: "claimsift-live" },
			el(Counts, { counts: result.counts }),
			el(
				"p",
				{ className: "claimsift-cached", "data-sentences": total, "data-cached": result.cached_sentences },
				sprintf(
					/* translators: 1: number of sentences, 2: how many of them the service had seen before. */
					__("%1$d sentences, %2$d unchanged since an earlier check (from the service's cache).", "claimsift"),
					total,
					result.cached_sentences
				)
			),
			el(SentenceList, { annotations: props.annotations })
		);
	}

	/** The result the background check stored with the post, until the post is checked again here. */
	function StoredResult(props) {
		var result = props.state.result;
		return el(
			"div",
			{ className: "claimsift-stored" },
			el("h3", null, __("Last background check", "claimsift")),
			el(
				"p",
				{ className: "claimsift-stored-meta" },
				sprintf(
					/* translators: 1: date and time, 2: model name, 3: model version. */
					__("Checked %1$s with %2$s %3$s.", "claimsift"),
					new Date(result.checked_at).toLocaleString(),
					result.model.name,
					result.model.version
				)
			),
			props.state.stale &&
				el(
					components.Notice,
					{ status: "warning", isDismissible: false, className: "claimsift-stale" },
					__("Stale: the post was edited after this check. Check claims to see the current labels.", "claimsift")
				),
			el(Counts, { counts: result.counts }),
			el(
				"ol",
				{ className: "claimsift-sentences" },
				result.sentences.map(function (sentence, i) {
					return el(
						"li",
						{ key: i, className: "claimsift-stored-sentence claimsift-label-" + slug(sentence.label) },
						el("span", { className: "claimsift-initial" }, initial(sentence)),
						" " + sentence.text
					);
				})
			)
		);
	}

	/** The post's stored check (GET /claimsift/v1/posts/<id>), fetched again after each save. */
	function useStoredState(postId) {
		var saving = useSelect(function (select) {
			return select("core/editor").isSavingPost();
		}, []);
		var state = useState(null);
		useEffect(
			function () {
				if (!postId || saving) return;
				wp.apiFetch({ path: "/claimsift/v1/posts/" + postId }).then(state[1], function () {
					state[1](null);
				});
			},
			[postId, saving]
		);
		return state[0];
	}

	function Sidebar() {
		var postId = useSelect(function (select) {
			return select("core/editor").getCurrentPostId();
		}, []);
		var stored = useStoredState(postId);
		var state = useState({ busy: false, error: null, result: null, annotations: [] });
		var current = state[0];
		var setState = state[1];

		function run() {
			setState({ busy: true, error: null, result: current.result, annotations: current.annotations });
			analyse().then(
				function (done) {
					setState({ busy: false, error: null, result: done.result, annotations: done.annotations });
				},
				function (error) {
					clearAnnotations(); // highlights of an earlier check would no longer be vouched for
					setState({ busy: false, error: error.message || String(error), result: null, annotations: [] });
				}
			);
		}

		function clear() {
			clearAnnotations();
			setState({ busy: false, error: null, result: null, annotations: [] });
		}

		var showStored = !current.result && stored && stored.result;
		return el(
			components.PanelBody,
			null,
			el(
				"p",
				null,
				__("Labels each sentence as a fact, an assessment or a prescription. Uncertain ones are outlined and marked ?.", "claimsift")
			),
			el(
				components.Button,
				{ variant: "primary", onClick: run, isBusy: current.busy, disabled: current.busy },
				current.busy ? __("Checking…", "claimsift") : __("Check claims", "claimsift")
			),
			" ",
			el(components.Button, { variant: "secondary", onClick: clear, disabled: current.busy }, __("Clear", "claimsift")),
			current.error &&
				el(components.Notice, { status: "error", isDismissible: false, className: "claimsift-error" }, current.error),
			current.result && el(LiveResult, { result: current.result, annotations: current.annotations }),
			showStored && el(StoredResult, { state: stored }),
			!current.result &&
				stored &&
				stored.queued &&
				el("p", { className: "claimsift-queued" }, __("Queued for a background check.", "claimsift"))
		);
	}

	wp.plugins.registerPlugin("claimsift", {
		icon: "editor-spellcheck",
		render: function () {
			return el(
				wp.element.Fragment,
				null,
				el(PluginSidebarMoreMenuItem, { target: "claimsift-sidebar" }, "Claimsift"),
				el(PluginSidebar, { name: "claimsift-sidebar", title: "Claimsift" }, el(Sidebar))
			);
		},
	});
})(typeof window !== "undefined" ? window : globalThis);
