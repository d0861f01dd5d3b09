/* The Petition block in the editor: its options in the sidebar and a placeholder that says
   what will show. Plain JavaScript over WordPress's globals, so that there is no build step;
   the page shows what the server renders (petition_widget_block). */
(function (blocks, blockEditor, components, element, i18n) {
	"use strict";
	var el = element.createElement;
	var __ = i18n.__;

	function field(props, name) {
		return function (value) {
			var change = {};
			change[name] = value;
			props.setAttributes(change);
		};
	}

	blocks.registerBlockType("petition-widget/petition", {
		edit: function (props) {
			var a = props.attributes;
			var controls = [
				el(components.TextControl, {
					key: "campaign",
					label: __("Campaign", "petition-widget"),
					help: __("The name at the end of the petition’s address (…/c/belarus).", "petition-widget"),
					value: a.campaign,
					onChange: field(props, "campaign")
				}),
				el(components.TextControl, {
					key: "partner",
					label: __("Partner code", "petition-widget"),
					help: __("The code the campaign gave your organisation, if any.", "petition-widget"),
					value: a.partner,
					onChange: field(props, "partner")
				}),
				el(components.SelectControl, {
					key: "lang",
					label: __("Language", "petition-widget"),
					value: a.lang,
					options: [
						{ value: "", label: __("The reader’s", "petition-widget") },
						{ value: "en", label: "English" },
						{ value: "fr", label: "Français" },
						{ value: "be", label: "Беларуская" },
						{ value: "ru", label: "Русский" }
					],
					onChange: field(props, "lang")
				}),
				el(components.SelectControl, {
					key: "mode",
					label: __("Show", "petition-widget"),
					value: a.mode,
					options: [
						{ value: "form", label: __("The petition", "petition-widget") },
						{ value: "counter", label: __("Only the count", "petition-widget") }
					],
					onChange: field(props, "mode")
				}),
				el(components.SelectControl, {
					key: "load",
					label: __("Load", "petition-widget"),
					value: a.load,
					options: [
						{ value: "", label: __("As the settings say", "petition-widget") },
						{ value: "page", label: __("With the page", "petition-widget") },
						{ value: "click", label: __("When the reader clicks", "petition-widget") }
					],
					onChange: field(props, "load")
				})
			];
			return el(
				"div",
				blockEditor.useBlockProps(),
				el(blockEditor.InspectorControls, null,
					el(components.PanelBody, { title: __("Petition", "petition-widget") }, controls)),
				el(components.Placeholder, {
					icon: "megaphone",
					label: __("Petition", "petition-widget"),
					instructions: a.campaign
						? __("The petition shows here on the published page.", "petition-widget")
						: __("Type the campaign’s name to show its petition.", "petition-widget")
				}, controls[0])
			);
		},
		save: function () {
			return null; // rendered on the server, so that it follows the settings
		}
	});
})(window.wp.blocks, window.wp.blockEditor, window.wp.components, window.wp.element, window.wp.i18n);
