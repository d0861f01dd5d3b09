<?php
// What editor.js needs from WordPress (hand-written: the plugin has no build step).
return array(
	'dependencies' => array( 'wp-blocks', 'wp-block-editor', 'wp-components', 'wp-element', 'wp-i18n' ),
	'version'      => '0.1.0',
);
